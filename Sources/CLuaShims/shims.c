#include "pinrules_shims.h"
