/* Developer harness only: a Lua C module "pinpat" exposing the budgeted
 * pattern functions plus a counting pinrules_sandbox_charge.
 * Build: see README.md. Not part of the Swift package or `make test`. */
#include <lua.h>
#include <lauxlib.h>

#include "pinrules_patterns.h"

/* Budget state: a C global. 0 = unlimited. Set with pinpat.budget(limit). */
static lua_Integer harness_limit = 0;
static lua_Integer harness_used = 0;
static lua_Integer harness_calls = 0;

void pinrules_sandbox_charge(lua_State *L, lua_Integer units) {
  harness_used += units;
  harness_calls++;
  if (harness_limit > 0 && harness_used > harness_limit)
    luaL_error(L, "budget exceeded");
}

/* pinpat.budget([limit]): resets the counter, sets the limit (0/nil = none). */
static int h_budget(lua_State *L) {
  harness_limit = luaL_optinteger(L, 1, 0);
  harness_used = 0;
  harness_calls = 0;
  return 0;
}

/* pinpat.used() -> units charged, number of charge calls since budget(). */
static int h_used(lua_State *L) {
  lua_pushinteger(L, harness_used);
  lua_pushinteger(L, harness_calls);
  return 2;
}

int luaopen_pinpat(lua_State *L) {
  lua_newtable(L);
  pinrules_patterns_register(L, -1);
  lua_pushcfunction(L, h_budget);
  lua_setfield(L, -2, "budget");
  lua_pushcfunction(L, h_used);
  lua_setfield(L, -2, "used");
  return 1;
}
