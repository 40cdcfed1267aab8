-- Tests 40_checkout_currency.lua with destination.json.

local function order(properties)
  return track_event("Order Completed", properties)
end

test("upper-cases the currency", function()
  assert_track(run(order({order_id = "o-1", revenue = 5, currency = "gbp"})), "Checkout", {currency = "GBP"})
end)

test("defaults the currency and rounds the value", function()
  local call = assert_track(run(order({order_id = "o-2", revenue = 19.999})), "Checkout")
  assert_eq(call.data.currency, "USD")
  assert_eq(call.data.value, 20)
end)

test("integer values stay integers", function()
  local call = assert_track(run(order({order_id = "o-3", revenue = 7})), "Checkout")
  assert_eq(math.type(call.data.value), "integer")
end)

test("a test order is dropped with its LDP set call", function()
  local out = run(order({order_id = "test-1", revenue = 1}))
  assert_dropped(out, "test order")
  assert_eq(out.pintrk, {})
end)
