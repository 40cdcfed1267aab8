-- Adjust a track call after mapping: Pinterest wants ISO currency codes in upper case and a
-- value with at most two decimals; orders without a currency are in the shop's currency.
-- Test orders (order_id starting with "test-") are not sent at all.
local SHOP_CURRENCY = "USD"

---@type PinRules.Rule
return {
  after = function(call, event, ctx)
    if call.fn ~= "track" or call.event ~= "Checkout" then return end
    local data = call.data
    if type(data.order_id) == "string" and data.order_id:sub(1, 5) == "test-" then
      return drop("test order")
    end
    if type(data.currency) == "string" and data.currency ~= "" then
      data.currency = data.currency:upper()
    else
      data.currency = SHOP_CURRENCY
    end
    if math.type(data.value) == "float" then
      data.value = math.floor(data.value * 100 + 0.5) / 100
    end
  end,
}
