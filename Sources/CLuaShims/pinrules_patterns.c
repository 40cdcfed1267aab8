// TEMPORARY stand-in until the budgeted matcher lands: registers the stock functions.
#include "pinrules_patterns.h"
#include <lauxlib.h>
#include <lualib.h>

void pinrules_patterns_register(lua_State *L, int table_index) {
    table_index = lua_absindex(L, table_index);
    luaL_requiref(L, "string", luaopen_string, 0);
    const char *names[] = {"find", "match", "gmatch", "gsub"};
    for (int i = 0; i < 4; i++) {
        lua_getfield(L, -1, names[i]);
        lua_setfield(L, table_index, names[i]);
    }
    lua_pop(L, 1);
}
