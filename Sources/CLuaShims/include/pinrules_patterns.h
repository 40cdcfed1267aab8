/*
 * pinrules_patterns.h - budgeted replacements for string.find/match/gmatch/gsub.
 *
 * Stock Lua pattern matching runs in C, outside the reach of instruction-count
 * hooks, and it backtracks exponentially ("a*a*a*b" on a long run of 'a').
 * These replacements give the same results as Lua 5.4.4 on ordinary patterns
 * but charge every matching step to the sandbox budget, so a hostile pattern
 * is stopped by a Lua error instead of hanging the host.
 */
#ifndef PINRULES_PATTERNS_H
#define PINRULES_PATTERNS_H

#include <lua.h>

/*
 * Provided by the sandbox (NOT defined by pinrules_patterns.c): charge `units`
 * of work to the running call's budget. Raises a Lua error (does not return)
 * when a limit is exceeded. It must leave the Lua stack balanced, because it
 * may be called while a luaL_Buffer is in use (gsub).
 */
void pinrules_sandbox_charge(lua_State *L, lua_Integer units);

/*
 * Sets the fields "find", "match", "gmatch" and "gsub" of the table at
 * `table_index` to the budgeted implementations. The matcher calls
 * pinrules_sandbox_charge() once per PINRULES_PATTERN_CHARGE_EVERY steps
 * (and once for the remainder at the end of each call).
 */
#define PINRULES_PATTERN_CHARGE_EVERY 1024
void pinrules_patterns_register(lua_State *L, int table_index);

#endif
