-- Suppress: internal traffic (uptime checks, the monitoring user) never reaches Pinterest.
local INTERNAL_EVENTS = {["Internal Ping"] = true, ["Health Check"] = true}

---@type PinRules.Rule
return {
  before = function(event, ctx)
    if INTERNAL_EVENTS[event.event] then
      return drop("internal traffic")
    end
    if event.anonymousId == "monitor" then
      return drop("internal traffic (monitoring user)")
    end
  end,
}
