/* The dashboard's files (user/web/: HTML, CSS, JavaScript), embedded in
 * the kernel at build time by tools/embed.py as they are in the repo. */
#ifndef USER_WEB_ASSETS_H
#define USER_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *name;        /* its file name in user/web/ */
    const char *type;        /* its Content-Type */
    const char *data;
    size_t len;              /* bytes */
};

/* The file called name, or NULL. */
const struct web_asset *web_asset(const char *name);

#endif
