/* Intrusive circular doubly-linked lists: O(1) insert and remove, no
 * allocation. A struct list is the head; a struct list_node lives inside
 * the element. Pure: compiles on the host too. */
#ifndef WEBSCALE_LIST_H
#define WEBSCALE_LIST_H

#include <stddef.h>

struct list_node {
    struct list_node *prev, *next;
};

struct list {
    struct list_node head;
};

#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

#define LIST_INIT(name) { { &(name).head, &(name).head } }

static inline void list_init(struct list *l)
{
    l->head.prev = l->head.next = &l->head;
}

/* A node on no list points at itself (list_remove leaves it so). */
static inline void list_node_init(struct list_node *n) { n->prev = n->next = n; }
static inline int list_node_linked(const struct list_node *n) { return n->next != n; }

static inline int list_empty(const struct list *l)
{
    return l->head.next == &l->head;
}

static inline void list_insert_before(struct list_node *pos, struct list_node *n)
{
    n->prev = pos->prev;
    n->next = pos;
    pos->prev->next = n;
    pos->prev = n;
}

static inline void list_push_back(struct list *l, struct list_node *n)
{
    list_insert_before(&l->head, n);
}

static inline void list_push_front(struct list *l, struct list_node *n)
{
    list_insert_before(l->head.next, n);
}

static inline void list_remove(struct list_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

/* list_remove of a non-empty list's first node, which it returns: one
 * load fewer (its prev is the head). The wake-up of a sync object's
 * waiter takes it so. The node points at itself afterwards, as after
 * list_remove, so that a list_remove of it off no list stays harmless.
 * On an empty list it would return the head: test list_empty first. */
static inline struct list_node *list_take_first(struct list *l)
{
    struct list_node *head = &l->head;
    __asm__("" : "+r"(head));   /* GCC otherwise keeps l too, one register more */
    struct list_node *n = head->next;
    struct list_node *next = n->next;
    head->next = next;
    next->prev = head;
    list_node_init(n);
    return n;
}

static inline struct list_node *list_first(const struct list *l)
{
    return list_empty(l) ? NULL : l->head.next;
}

static inline struct list_node *list_pop_front(struct list *l)
{
    struct list_node *n = list_first(l);
    if (n)
        list_remove(n);
    return n;
}

#define list_for_each(pos, l) \
    for ((pos) = (l)->head.next; (pos) != &(l)->head; (pos) = (pos)->next)

#endif
