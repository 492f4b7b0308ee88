#ifndef FIELDKIT_CFREETYPE_SHIM_H
#define FIELDKIT_CFREETYPE_SHIM_H
#include <ft2build.h>
#include FT_FREETYPE_H

/// FT_LOAD_RENDER is a parenthesised shift, which Swift does not import.
static const FT_Int32 fk_ft_load_render = FT_LOAD_RENDER;
#endif
