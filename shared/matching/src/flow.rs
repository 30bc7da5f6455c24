//! Maximum-weight assignment of requests to mentors with places, as a minimum-cost
//! flow.
//!
//! The network: source → request (capacity 1); request → mentor (capacity 1, cost
//! −score) for each candidate pair; request → sink directly (capacity 1, cost 0:
//! "nobody"); mentor → sink (capacity: the mentor's free places). Every request
//! sends its unit of flow somewhere, so the flow is maximal and its cost is minus
//! the total score; the cheapest such flow is the assignment with the highest
//! total score. Leaving a request with nobody costs nothing, so a match is only
//! made when it adds to the total, and only the total counts, not the number of
//! matches.
//!
//! Successive shortest paths with Johnson potentials, in primal-dual phases: a
//! Dijkstra on reduced costs sets the potentials so that the edges on cheapest paths
//! have reduced cost zero, and a blocking flow (Dinic's) on those edges sends flow
//! along all of those paths before the next phase. A path's real cost is an integer from
//! minus the highest score up to zero, and never decreases from one phase to the
//! next, so there are at most that many phases, however many paths each carries.
//!
//! At the end every edge with room left has a non-negative reduced cost. That is
//! the certificate of optimality, and it extends to pairs that were not in the
//! network: if such a pair's edge would have a non-negative reduced cost too, adding
//! it could not improve the result ([`Solution::improves`]).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The result of [`max_weight_assignment`].
pub(crate) struct Solution {
    /// For each request, the index into its candidate list of its mentor, if any.
    pub(crate) picks: Vec<Option<usize>>,
    request_potential: Vec<i64>,
    /// By mentor index; mentors without places have none (and are never eligible).
    mentor_potential: Vec<i64>,
}

impl Solution {
    /// Whether an edge from request `r` to mentor `m` worth `score`, had it been a
    /// candidate, would have a negative reduced cost: only then could it raise the
    /// total. When no missing pair would, the assignment is optimal over all pairs.
    pub(crate) fn improves(&self, r: usize, m: usize, score: u64) -> bool {
        -(score as i64) + self.request_potential[r] - self.mentor_potential[m] < 0
    }
}

/// The assignment of highest total score among those that give each request at
/// most one of its candidates and no mentor more requests than `free[m]`.
///
/// `candidates[r]` lists `(mentor, score)` pairs with mentor indices below
/// `free.len()` and `free[mentor] > 0`. Ties are broken by the order of nodes and
/// edges, so the same input always gives the same result.
pub(crate) fn max_weight_assignment(candidates: &[Vec<(u32, u64)>], free: &[u32]) -> Solution {
    let requests = candidates.len();
    // Every mentor with a place gets a node, listed or not, so that it has a
    // potential to price missing pairs with.
    let mut node_of_mentor = vec![usize::MAX; free.len()];
    let mut nodes = requests + 1;
    for (m, &places) in free.iter().enumerate() {
        if places > 0 {
            node_of_mentor[m] = nodes;
            nodes += 1;
        }
    }
    let source = 0usize;
    let sink = nodes;
    let mut graph = Graph::new(nodes + 1);

    let mut request_edges: Vec<Vec<usize>> = Vec::with_capacity(requests);
    for (r, list) in candidates.iter().enumerate() {
        graph.add_edge(source, r + 1, 1, 0);
        let edges = list
            .iter()
            .map(|&(m, score)| {
                let node = node_of_mentor[m as usize];
                assert!(node != usize::MAX, "candidates have a free place");
                graph.add_edge(r + 1, node, 1, -(score as i64))
            })
            .collect();
        request_edges.push(edges);
        graph.add_edge(r + 1, sink, 1, 0);
    }
    for (m, &node) in node_of_mentor.iter().enumerate() {
        if node != usize::MAX {
            graph.add_edge(node, sink, i64::from(free[m]), 0);
        }
    }

    let potential = graph.min_cost_flow(source, sink);

    Solution {
        picks: request_edges.iter().map(|edges| edges.iter().position(|&edge| graph.cap[edge] == 0)).collect(),
        request_potential: (0..requests).map(|r| potential[r + 1]).collect(),
        mentor_potential: node_of_mentor.iter().map(|&node| if node == usize::MAX { 0 } else { potential[node] }).collect(),
    }
}

/// A residual graph: edge `e` and its reverse `e ^ 1` are stored side by side.
struct Graph {
    adjacency: Vec<Vec<u32>>,
    to: Vec<u32>,
    cap: Vec<i64>,
    cost: Vec<i64>,
}

impl Graph {
    fn new(nodes: usize) -> Self {
        Graph { adjacency: vec![Vec::new(); nodes], to: Vec::new(), cap: Vec::new(), cost: Vec::new() }
    }

    fn add_edge(&mut self, from: usize, to: usize, cap: i64, cost: i64) -> usize {
        let edge = self.to.len();
        self.adjacency[from].push(edge as u32);
        self.to.push(to as u32);
        self.cap.push(cap);
        self.cost.push(cost);
        self.adjacency[to].push(edge as u32 + 1);
        self.to.push(from as u32);
        self.cap.push(0);
        self.cost.push(-cost);
        edge
    }

    /// Sends as much flow as possible from `source` to `sink` at the least cost and
    /// returns the final potentials, under which every edge with room left has a
    /// non-negative reduced cost.
    fn min_cost_flow(&mut self, source: usize, sink: usize) -> Vec<i64> {
        let nodes = self.adjacency.len();
        let mut potential = self.initial_potentials(source, sink);
        let mut distance = vec![i64::MAX; nodes];
        let mut heap = BinaryHeap::new();
        let mut search = BlockingFlow::new(nodes);
        loop {
            distance.fill(i64::MAX);
            heap.clear();
            distance[source] = 0;
            heap.push(Reverse((0i64, source as u32)));
            while let Some(Reverse((d, u))) = heap.pop() {
                let u = u as usize;
                if d > distance[u] {
                    continue;
                }
                if u == sink {
                    // Nodes not yet settled are at least this far: capped below to
                    // the sink's distance, they get the same potentials as if the
                    // search had run to the end.
                    break;
                }
                for &edge in &self.adjacency[u] {
                    let edge = edge as usize;
                    if self.cap[edge] == 0 {
                        continue;
                    }
                    let v = self.to[edge] as usize;
                    let reduced = d + self.cost[edge] + potential[u] - potential[v];
                    if reduced < distance[v] {
                        distance[v] = reduced;
                        heap.push(Reverse((reduced, v as u32)));
                    }
                }
            }
            let to_sink = distance[sink];
            if to_sink == i64::MAX {
                return potential;
            }
            // Capping at the sink's distance keeps every reduced cost non-negative
            // (also for nodes Dijkstra did not reach), and every path of zero
            // reduced cost to the sink is now a cheapest one.
            for v in 0..nodes {
                potential[v] += distance[v].min(to_sink);
            }
            search.run(self, &potential, source, sink);
        }
    }

    /// Shortest distances from the source before any flow, which make every reduced
    /// cost non-negative: zero for the source and requests, for a mentor its
    /// cheapest incoming edge (zero when it has none), for the sink the least of
    /// all those.
    fn initial_potentials(&self, source: usize, sink: usize) -> Vec<i64> {
        let nodes = self.adjacency.len();
        let mut potential = vec![0i64; nodes];
        let mut lowest = 0;
        for &edge in &self.adjacency[source] {
            let request = self.to[edge as usize] as usize;
            for &edge in &self.adjacency[request] {
                let edge = edge as usize;
                let v = self.to[edge] as usize;
                if edge.is_multiple_of(2) && v != sink {
                    potential[v] = potential[v].min(self.cost[edge]);
                    lowest = lowest.min(potential[v]);
                }
            }
        }
        potential[sink] = lowest;
        potential
    }
}

/// Dinic's blocking flow restricted to edges of zero reduced cost (the cheapest
/// paths): a breadth-first search gives each node its level, then depth-first
/// searches send flow along paths that go one level further at each edge,
/// skipping edges and nodes already found to lead nowhere. Repeated until the sink
/// is out of reach.
struct BlockingFlow {
    level: Vec<u32>,
    next_edge: Vec<usize>,
    queue: Vec<usize>,
    stack: Vec<usize>,
    path: Vec<usize>,
}

impl BlockingFlow {
    fn new(nodes: usize) -> Self {
        BlockingFlow {
            level: vec![u32::MAX; nodes],
            next_edge: vec![0; nodes],
            queue: Vec::new(),
            stack: Vec::new(),
            path: Vec::new(),
        }
    }

    fn admissible(graph: &Graph, potential: &[i64], u: usize, edge: usize) -> bool {
        graph.cap[edge] > 0 && graph.cost[edge] + potential[u] - potential[graph.to[edge] as usize] == 0
    }

    /// Sends flow along every cheapest path there is; returns the number of paths.
    fn run(&mut self, graph: &mut Graph, potential: &[i64], source: usize, sink: usize) -> usize {
        let mut found = 0;
        loop {
            self.level.fill(u32::MAX);
            self.level[source] = 0;
            self.queue.clear();
            self.queue.push(source);
            let mut head = 0;
            while head < self.queue.len() {
                let u = self.queue[head];
                head += 1;
                if self.level[sink] <= self.level[u] {
                    // Nodes this deep cannot be on a shortest path to the sink.
                    break;
                }
                for &edge in &graph.adjacency[u] {
                    let edge = edge as usize;
                    let v = graph.to[edge] as usize;
                    if self.level[v] == u32::MAX && Self::admissible(graph, potential, u, edge) {
                        self.level[v] = self.level[u] + 1;
                        self.queue.push(v);
                    }
                }
            }
            if self.level[sink] == u32::MAX {
                return found;
            }
            self.next_edge.fill(0);
            self.stack.clear();
            self.path.clear();
            self.stack.push(source);
            while let Some(&u) = self.stack.last() {
                if u == sink {
                    for &edge in &self.path {
                        graph.cap[edge] -= 1;
                        graph.cap[edge ^ 1] += 1;
                    }
                    found += 1;
                    self.stack.truncate(1);
                    self.path.clear();
                    continue;
                }
                let mut advanced = false;
                while self.next_edge[u] < graph.adjacency[u].len() {
                    let edge = graph.adjacency[u][self.next_edge[u]] as usize;
                    let v = graph.to[edge] as usize;
                    if self.level[v] == self.level[u] + 1 && Self::admissible(graph, potential, u, edge) {
                        // Not advanced past: the edge may carry another path.
                        self.stack.push(v);
                        self.path.push(edge);
                        advanced = true;
                        break;
                    }
                    self.next_edge[u] += 1;
                }
                if !advanced {
                    // Nothing leads on from here in this level graph.
                    self.level[u] = u32::MAX;
                    self.stack.pop();
                    self.path.pop();
                }
            }
        }
    }
}
