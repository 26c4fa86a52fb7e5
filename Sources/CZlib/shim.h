#ifndef CTDOCTOR_CZLIB_SHIM_H
#define CTDOCTOR_CZLIB_SHIM_H
#include <zlib.h>
#endif
