/* export.c - the exports by name. */
#include "patterns/report/export.h"

#include <string.h>

omni_export_fn omni_export_find(const char *name) {
    static const struct {
        const char *name;
        omni_export_fn fn;
    } all[] = {{"collapsed", omni_export_collapsed},
               {"speedscope", omni_export_speedscope},
               {"pstats", omni_export_pstats},
               {"chrome", omni_export_chrome},
               {"pprof", omni_export_pprof}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i].name, name) == 0)
            return all[i].fn;
    return NULL;
}
