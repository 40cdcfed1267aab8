#ifndef PINRULES_SHIMS_H
#define PINRULES_SHIMS_H
#include <lua.h>
#endif
