// Budgeted replacements for string.find/match/gmatch/gsub (see pinrules_patterns.c).
#ifndef PINRULES_PATTERNS_H
#define PINRULES_PATTERNS_H
#include <lua.h>

/// Sets `find`, `match`, `gmatch` and `gsub` in the table at `table_index`.
void pinrules_patterns_register(lua_State *L, int table_index);

/// Provided by the sandbox: charges `units` of work to the running call's budget; raises a Lua
/// error (does not return) when a limit is exceeded.
void pinrules_sandbox_charge(lua_State *L, lua_Integer units);

#endif
