/**
 * Orders and cycles of directed graphs given by name: the one cycle finder and the one dependency order that the
 * config checks, the trigger graph and the monorepo planner share.
 *
 * Pure module: names and adjacency in, names out.
 *
 * @module
 */

/**
 * Finds a cycle in a directed graph given as adjacency lists. Returns its members in order, starting from the
 * smallest name so the report is stable, or undefined when the graph is acyclic. Nodes are visited in name order,
 * each node's edges in the order `edges` gives them.
 */
export function findCycle(nodes: readonly string[], edges: (node: string) => readonly string[]): string[] | undefined {
    const state = new Map<string, "visiting" | "done">();
    const stack: string[] = [];
    const visit = (node: string): string[] | undefined => {
        const s = state.get(node);
        if (s === "done") return undefined;
        if (s === "visiting") {
            const cycle = stack.slice(stack.indexOf(node));
            const start = cycle.indexOf([...cycle].sort()[0]);
            return [...cycle.slice(start), ...cycle.slice(0, start)];
        }
        state.set(node, "visiting");
        stack.push(node);
        for (const next of edges(node)) {
            const found = visit(next);
            if (found) return found;
        }
        stack.pop();
        state.set(node, "done");
        return undefined;
    };
    for (const node of [...nodes].sort()) {
        const found = visit(node);
        if (found) return found;
    }
    return undefined;
}

/**
 * `nodes` with every node after the nodes it waits for (`waitsFor`; names that are not nodes are ignored); among
 * nodes ready at once, the one listed first in `nodes` comes first. `left` holds the nodes a cycle kept out of
 * `order` (empty when the graph is acyclic), in `nodes` order.
 */
export function dependencyOrder(
    nodes: readonly string[],
    waitsFor: (node: string) => Iterable<string>,
): { readonly order: string[]; readonly left: string[] } {
    const known = new Set(nodes);
    const waiting = new Map(nodes.map((n) => [n, new Set([...waitsFor(n)].filter((d) => known.has(d)))]));
    const order: string[] = [];
    for (;;) {
        const next = nodes.find((n) => waiting.get(n)?.size === 0);
        if (next === undefined) break;
        order.push(next);
        waiting.delete(next);
        for (const rest of waiting.values()) rest.delete(next);
    }
    return { order, left: nodes.filter((n) => waiting.has(n)) };
}
