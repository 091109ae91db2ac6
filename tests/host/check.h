/* A minimal assertion kit for the host unit tests. */
#ifndef TESTS_HOST_CHECK_H
#define TESTS_HOST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failures;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                    \
            check_failures++;                                                  \
        }                                                                      \
    } while (0)

/* Two integers that must be equal; on failure both values are printed. */
#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        unsigned long long a_ = (unsigned long long)(a);                       \
        unsigned long long b_ = (unsigned long long)(b);                       \
        if (a_ != b_) {                                                        \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%llu, %llu)\n", \
                    __FILE__, __LINE__, #a, #b, a_, b_);                       \
            check_failures++;                                                  \
        }                                                                      \
    } while (0)

static inline int check_done(const char *name)
{
    printf("%s: %s\n", name, check_failures ? "FAILED" : "ok");
    return check_failures ? 1 : 0;
}

#endif
