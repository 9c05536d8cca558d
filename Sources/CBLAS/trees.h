#ifndef TESTBED_TREES_H
#define TESTBED_TREES_H

// Decision-tree walks for prediction (FlatTree in Swift), several walks side by side.
//
// Why in C: a walk is a chain of dependent loads (node, input, next node), and a large forest's
// nodes do not stay in cache. Each child is chosen by a mask rather than a branch (which would
// mispredict on about every other split), and walks go side by side in lanes whose positions stay
// in registers (a fixed-size C array after unrolling; a Swift buffer did not), so that their loads
// and cache misses overlap instead of coming one after another.

#include <stdint.h>

/// One node of a tree in depth-first order, so that a split's left child is the node after it.
typedef struct testbed_tree_node {
    /// Inputs at most this go left; NaN for a leaf, which no input is at most.
    double threshold;
    /// The input column; bit 31 set when missing inputs go left. 0 for a leaf.
    uint32_t column;
    /// The right child; for a leaf, the leaf itself, so that a walk which goes on stays there.
    int32_t right;
} testbed_tree_node;

static const uint32_t testbed_tree_missing_left = 1u << 31;

/// The child of `node` that `row` goes to (the node itself for a leaf).
static inline int32_t testbed_tree_child(const testbed_tree_node *nodes, int32_t node, const double *row) {
    const testbed_tree_node split = nodes[node];
    const double x = row[split.column & ~testbed_tree_missing_left];
    const int32_t left = (x <= split.threshold) | ((x != x) & (int32_t)(split.column >> 31));
    // A mask, not a conditional: the compiler made the conditional a branch, which mispredicts on
    // about every other split.
    const int32_t mask = -left;
    return ((node + 1) & mask) | (split.right & ~mask);
}

// Lanes walked side by side: rows of one tree, or trees for one row. What limited the walks was
// not the number of lanes (4 to 32 were within the noise of one another on the `infer` suite's
// forest) but a conditional child, which the compiler made a branch that mispredicted on about
// every other split: with the mask in testbed_tree_child, the forest walked 2.5-4x as many rows
// per second. 16 trees side by side were a little ahead of 8 for a single row.
enum { testbed_tree_lanes = 16 };

/// Walks LANES lanes (row ROW of tree NODES for `lane`) side by side, each step taken by all of
/// them until none moves, and leaves each lane's leaf in `at`.
#define TESTBED_TREE_WALK(LANES, NODES, ROW)                                      \
    int32_t at[LANES] = {0};                                                      \
    for (int moved = 1; moved;) {                                                 \
        moved = 0;                                                                \
        _Pragma("clang loop unroll(full)")                                        \
        for (int lane = 0; lane < LANES; lane++) {                                \
            const int32_t next = testbed_tree_child(NODES, at[lane], ROW);        \
            moved |= next != at[lane];                                            \
            at[lane] = next;                                                      \
        }                                                                         \
    }

/// The leaf of one tree that each of `count` rows reaches (`rows` row-major, `columns` wide), into
/// `leaves`: rows walked ``testbed_tree_lanes`` at a time, each step of the group taken by all of
/// them until none moves. A short last group walks its last row in the missing lanes.
static inline void testbed_tree_leaves(const testbed_tree_node *nodes, const double *rows, long columns, long count,
                                       int32_t *leaves) {
    long first = 0;
    for (; first + testbed_tree_lanes <= count; first += testbed_tree_lanes) {
        // Rows found from one base (rather than a pointer per lane) keep the lanes in registers.
        const double *base = rows + first * columns;
        TESTBED_TREE_WALK(testbed_tree_lanes, nodes, base + lane * columns)
        for (int lane = 0; lane < testbed_tree_lanes; lane++) leaves[first + lane] = at[lane];
    }
    if (first == count) return;
    const double *row[testbed_tree_lanes];
    for (int lane = 0; lane < testbed_tree_lanes; lane++) row[lane] = rows + (first + lane < count ? first + lane : count - 1) * columns;
    TESTBED_TREE_WALK(testbed_tree_lanes, nodes, row[lane])
    for (int lane = 0; first + lane < count; lane++) leaves[first + lane] = at[lane];
}

/// The leaf that one row reaches in each of `count` trees, into `leaves`: trees walked
/// ``testbed_tree_lanes`` at a time, each step of the group taken by all of them until none moves.
/// A short last group walks its last tree in the missing lanes.
static inline void testbed_forest_leaves(const testbed_tree_node *const *trees, long count, const double *row, int32_t *leaves) {
    long first = 0;
    for (; first + testbed_tree_lanes <= count; first += testbed_tree_lanes) {
        const testbed_tree_node *const *group = trees + first;
        TESTBED_TREE_WALK(testbed_tree_lanes, group[lane], row)
        for (int lane = 0; lane < testbed_tree_lanes; lane++) leaves[first + lane] = at[lane];
    }
    if (first == count) return;
    const testbed_tree_node *group[testbed_tree_lanes];
    for (int lane = 0; lane < testbed_tree_lanes; lane++) group[lane] = trees[first + lane < count ? first + lane : count - 1];
    TESTBED_TREE_WALK(testbed_tree_lanes, group[lane], row)
    for (int lane = 0; first + lane < count; lane++) leaves[first + lane] = at[lane];
}

#endif
