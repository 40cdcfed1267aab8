// The system Lua 5.4 headers, nothing else. Paths come from pkg-config (lua5.4).
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>
