/* The intrusive list: FIFO order, removal from the middle, emptiness. */
#include <stddef.h>
#include <webscale/list.h>
#include "tests/host/check.h"

struct item {
    int v;
    struct list_node link;
};

int main(void)
{
    struct list l;
    struct item it[5];
    list_init(&l);
    CHECK(list_empty(&l) && list_first(&l) == NULL && list_pop_front(&l) == NULL);
    for (int i = 0; i < 5; i++) {
        it[i].v = i;
        list_push_back(&l, &it[i].link);
    }
    list_remove(&it[2].link);                  /* from the middle */
    list_push_front(&l, &it[2].link);          /* and back at the head */
    int want[5] = { 2, 0, 1, 3, 4 }, n = 0;
    struct list_node *pos;
    list_for_each(pos, &l) {
        CHECK(n < 5 && container_of(pos, struct item, link)->v == want[n]);
        n++;
    }
    CHECK(n == 5);
    for (int i = 0; i < 5; i++) {
        struct list_node *x = list_pop_front(&l);
        CHECK(x && container_of(x, struct item, link)->v == want[i]);
        CHECK(x->next == x && x->prev == x);   /* a removed node points at itself */
    }
    CHECK(list_empty(&l));
    return check_done("list");
}
