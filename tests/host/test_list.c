/* The intrusive list: FIFO order, removal from the middle, emptiness;
 * list_take_first, the sync objects' wake-up. */
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

    /* list_take_first off lists of 3 and of 1: the rest in order, the head
     * linked both ways, and the taken node pointing at itself, so that a
     * list_remove of it, off every list, changes nothing (sched_dequeue of
     * a sleeping thread does that). */
    for (int i = 0; i < 3; i++)
        list_push_back(&l, &it[i].link);
    struct list_node *t = list_take_first(&l);
    CHECK(t == &it[0].link && t->next == t && t->prev == t);
    CHECK(l.head.next == &it[1].link && it[1].link.prev == &l.head);
    list_remove(t);
    CHECK(l.head.next == &it[1].link && l.head.prev == &it[2].link);
    CHECK(list_take_first(&l) == &it[1].link && list_take_first(&l) == &it[2].link);
    CHECK(list_empty(&l) && l.head.prev == &l.head);
    list_push_back(&l, &it[4].link);
    t = list_take_first(&l);
    CHECK(t == &it[4].link && t->next == t && list_empty(&l) && l.head.prev == &l.head);
    return check_done("list");
}
