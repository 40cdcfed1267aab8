-- Add a custom property: every track call says whether the visit came from Pinterest, so that
-- conversions can be split by traffic source in Pinterest's reports.
local function host(url)
  if type(url) ~= "string" then return nil end
  return url:match("^%a[%w+.-]*://([^/:?#]+)")
end

---@type PinRules.Rule
return {
  after = function(call, event, ctx)
    if call.fn ~= "track" then return end
    local page = event.context and event.context.page
    local referrer = host(page and page.referrer)
    if referrer == nil then
      call.data.traffic_source = "direct"
    elseif referrer == "pinterest.com" or referrer:sub(-14) == ".pinterest.com" then
      call.data.traffic_source = "pinterest"
    else
      call.data.traffic_source = "other"
    end
  end,
}
