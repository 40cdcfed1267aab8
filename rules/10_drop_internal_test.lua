-- Tests 10_drop_internal.lua with destination.json (the conventions: same name, same folder).

test("an internal ping is dropped with a reason", function()
  local out = run(track_event("Internal Ping", {source = "uptime-checker"}))
  assert_dropped(out, "internal traffic")
  assert_eq(out.rule, "10_drop_internal.lua")
end)

test("health checks are internal too", function()
  assert_dropped(run(track_event("Health Check")), "internal traffic")
end)

test("the monitoring user is dropped whatever it sends", function()
  local out = run(page_event("Home", {}, {anonymousId = "monitor"}))
  assert_dropped(out, "monitoring user")
end)

test("a customer's event is mapped as usual", function()
  local out = run(track_event("Signed Up", {plan = "pro"}, {anonymousId = "a-1"}))
  assert_sent(out, "Signup")
  assert_eq(out.trace, {}, "the rule leaves the event alone")
end)
