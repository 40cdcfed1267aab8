-- Tests 30_traffic_source.lua with destination.json.

local function visit(referrer)
  return track_event("Signed Up", {}, {context = {page = {referrer = referrer}}})
end

test("pinterest.com and its subdomains count as Pinterest", function()
  for _, referrer in ipairs({"https://pinterest.com/", "https://www.pinterest.com/pin/1/", "https://uk.pinterest.com"}) do
    assert_track(run(visit(referrer)), "Signup", {traffic_source = "pinterest"})
  end
end)

test("a look-alike domain is not Pinterest", function()
  assert_track(run(visit("https://notpinterest.com/")), "Signup", {traffic_source = "other"})
end)

test("no referrer, or not a URL, is a direct visit", function()
  assert_track(run(visit(nil)), nil, {traffic_source = "direct"})
  assert_track(run(visit("")), nil, {traffic_source = "direct"})
  assert_track(run(visit(42)), nil, {traffic_source = "direct"})
end)

test("the LDP set call gets nothing", function()
  local out = run(visit("https://www.pinterest.com/"))
  assert_match(out.calls[1], {fn = "set", data = {traffic_source = null}})
end)
