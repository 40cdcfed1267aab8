-- Rename before mapping: a newsletter signup is a lead for Pinterest. The destination config
-- maps "Lead Generated" to Pinterest's Lead event, so renaming is all it takes; lead_type
-- tells the newsletter leads apart from the others.
---@type PinRules.Rule
return {
  before = function(event, ctx)
    if event.type == "track" and event.event == "Newsletter Subscribed" then
      event.event = "Lead Generated"
      event.properties = event.properties or {}
      if event.properties.lead_type == nil then
        event.properties.lead_type = "newsletter"
      end
      ctx.log("newsletter signup sent as a lead")
    end
  end,
}
