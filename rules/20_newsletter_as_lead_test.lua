-- Tests 20_newsletter_as_lead.lua with destination.json.

test("renames the signup before the mapping", function()
  local out = run(track_event("Newsletter Subscribed", {list = "weekly"}))
  assert_sent(out, "Lead")
  assert_eq(out.trace, {'20_newsletter_as_lead.lua: renamed event "Newsletter Subscribed" → "Lead Generated"'})
  assert_eq(out.logs, {"20_newsletter_as_lead.lua: newsletter signup sent as a lead"})
end)

test("the Lead carries the lead type and the event id", function()
  local event = track_event("Newsletter Subscribed")
  local call = assert_track(run(event), "Lead", {lead_type = "newsletter"})
  assert_eq(call.data.event_id, event.messageId)
end)

test("the exact calls", function()
  local out = run({type = "track", event = "Newsletter Subscribed", messageId = "m1", properties = {}})
  assert_eq(out.pintrk, {
    {"set", {opt_out_type = "", st = "", country = ""}},
    {"track", "Lead", {lead_type = "newsletter", line_items = {{}}, event_id = "m1"}},
  })
end)

test("without the config mapping the renamed event goes out under its own name", function()
  local out = run(track_event("Newsletter Subscribed"), {config = {tagId = "2612345678901"}})
  assert_track(out, "Lead Generated")
end)
