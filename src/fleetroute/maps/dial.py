"""Many-to-many fastest paths with Dial's bucket-queue Dijkstra, on all cores.

Why not scipy alone: scipy's ``dijkstra`` holds the GIL and takes ~15 ms per source on a
100k-node city, so a 2,000-stop matrix takes ~30 s on one core. Edge times here are whole
centiseconds, which makes a bucket queue (Dial's algorithm) exact and far cheaper than a
heap; sources run in parallel threads (numba, no GIL). Each search stops once it has
settled every target. Buckets are a power of two centiseconds wide, about a quarter of the
median edge, and there is a power of two of them: shifts and masks, not integer divisions,
in the inner loop (division was a fifth of the time on a 200k-node city). Edges shorter
than a bucket make it delta-stepping: a node may be improved again within its bucket, so
it is queued again, and a bucket's distances are final once it is empty.
Ties in time are broken by length, and the length of the chosen path is carried along, so
one search gives both matrices.

scipy's Dijkstra stays the reference: the tests check this module against it.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import numpy.typing as npt

__all__ = ["many_to_many", "pairs"]

_INF = np.iinfo(np.int32).max


def many_to_many(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int64],
    weight_cs: npt.NDArray[np.int64],
    length_m: npt.NDArray[np.float64],
    sources: npt.NDArray[np.int64],
    targets: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Fastest-path centiseconds and lengths from every source to every target.

    Parameters
    ----------
    indptr, indices
        The graph in CSR form (out-edges of node ``u`` are ``indptr[u]:indptr[u+1]``).
    weight_cs
        Edge travel times in whole centiseconds, at least 1.
    length_m
        Edge lengths.
    sources, targets
        Node indices.

    Returns
    -------
    travel_cs, distance_m
        ``(len(sources), len(targets))``; ``inf`` where a target is unreachable.
    """
    src = np.asarray(sources, dtype=np.int64)
    dst = np.asarray(targets, dtype=np.int64)
    threads = max(1, min(nb.get_num_threads(), src.shape[0]))
    cs, length = _matrix(
        np.ascontiguousarray(indptr, dtype=np.int32),
        np.ascontiguousarray(indices, dtype=np.int32),
        np.ascontiguousarray(weight_cs, dtype=np.int32),
        np.ascontiguousarray(length_m, dtype=np.float64)[:, None],
        src,
        dst,
        threads,
    )
    unreachable = cs == _INF
    travel = cs.astype(np.float64)
    travel[unreachable] = np.inf
    length[unreachable] = np.inf
    return travel, length


@nb.njit(cache=True)
def _buckets(w_cs):  # pragma: no cover - compiled
    """log2 of the bucket width and the bucket count (a power of two).

    The width is a power of two near a quarter of the median edge, not the shortest edge:
    a few very short edges (4 cs on the radial city) would otherwise make hundreds of
    thousands of near-empty buckets per search.
    """
    typical = np.median(w_cs) / 4 if w_cs.shape[0] else 1
    shift = 0
    while (2 << shift) <= typical:
        shift += 1
    span = ((w_cs.max() if w_cs.shape[0] else 1) >> shift) + 2
    n_buckets = 1
    while n_buckets < span:
        n_buckets *= 2
    return shift, n_buckets


@nb.njit(nogil=True, cache=True)
def _pair_search(  # pragma: no cover - compiled
    indptr,
    indices,
    w_cs,
    edge_acc,
    shift,
    n_buckets,
    source,
    stamp,
    mark,
    n_targets,
    dist,
    acc,
    counted,
    expanded,
    head,
    entry_node,
    entry_dist,
    entry_next,
):
    """One search from ``source`` until every marked target is final.

    Buckets may be wider than the shortest edge, so a node can improve another of its own
    bucket (delta-stepping): a bucket is worked until it is empty, an improved node is
    queued again, and distances below the next bucket are final only once it is empty.
    Returns False when the entry arrays ran out (the caller grows them and searches again;
    growing them in here would slow every access in the loop).
    """
    n = dist.shape[0]
    k_acc = acc.shape[1]
    for i in range(n):
        dist[i] = _INF
        counted[i] = False
        expanded[i] = False
    for b in range(n_buckets):
        head[b] = -1
    dist[source] = 0
    for j in range(k_acc):
        acc[source, j] = 0.0
    entry_node[0] = source
    entry_dist[0] = 0
    entry_next[0] = -1
    head[0] = 0
    n_entries = 1
    queued = 1
    found = 0
    cur = 0
    mask = n_buckets - 1
    while queued > 0:
        b = cur & mask
        e = head[b]
        if e == -1:
            if found == n_targets:  # this bucket is done: every target is final
                break
            cur += 1
            continue
        head[b] = entry_next[e]
        queued -= 1
        u = entry_node[e]
        du = dist[u]
        if entry_dist[e] != du or expanded[u]:  # a newer entry stands, or already done
            continue
        expanded[u] = True
        if mark[u] == stamp and not counted[u]:
            counted[u] = True
            found += 1
        lu = acc[u, 0]
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            nd = du + w_cs[k]
            dv = dist[v]
            if nd > dv:
                continue
            if nd == dv:
                if lu + edge_acc[k, 0] >= acc[v, 0]:
                    continue
                if not expanded[v]:  # as fast, shorter in metres, not yet expanded
                    for j in range(k_acc):
                        acc[v, j] = acc[u, j] + edge_acc[k, j]
                    continue
            # faster (or shorter after v was expanded): (re)queue v with its new labels
            expanded[v] = False
            if n_entries == entry_node.shape[0]:
                return False  # pragma: no cover - more re-queued nodes than edges
            entry_node[n_entries] = v
            entry_dist[n_entries] = nd
            bb = (nd >> shift) & mask
            entry_next[n_entries] = head[bb]
            head[bb] = n_entries
            n_entries += 1
            queued += 1
            dist[v] = nd
            for j in range(k_acc):
                acc[v, j] = acc[u, j] + edge_acc[k, j]
    return True


@nb.njit(parallel=True, cache=True)
def _pairs(
    indptr, indices, w_cs, edge_acc, origins, dest_ptr, dests, n_threads
):  # pragma: no cover
    n = indptr.shape[0] - 1
    k_acc = edge_acc.shape[1]
    n_pairs = dests.shape[0]
    out_cs = np.empty(n_pairs, dtype=np.int64)
    out_acc = np.empty((n_pairs, k_acc), dtype=np.float64)
    shift, n_buckets = _buckets(w_cs)
    for t in nb.prange(n_threads):
        dist = np.empty(n, dtype=np.int32)
        acc = np.empty((n, k_acc), dtype=np.float64)
        counted = np.empty(n, dtype=np.bool_)
        expanded = np.empty(n, dtype=np.bool_)
        mark = np.zeros(n, dtype=np.int32)
        head = np.empty(n_buckets, dtype=np.int32)
        entry_node = np.empty(indices.shape[0] + 1, dtype=np.int32)
        entry_dist = np.empty(indices.shape[0] + 1, dtype=np.int32)
        entry_next = np.empty(indices.shape[0] + 1, dtype=np.int32)
        for g in range(t, origins.shape[0], n_threads):
            stamp = g + 1
            n_targets = 0
            for p in range(dest_ptr[g], dest_ptr[g + 1]):
                if mark[dests[p]] != stamp:
                    mark[dests[p]] = stamp
                    n_targets += 1
            while not _pair_search(
                indptr,
                indices,
                w_cs,
                edge_acc,
                shift,
                n_buckets,
                origins[g],
                stamp,
                mark,
                n_targets,
                dist,
                acc,
                counted,
                expanded,
                head,
                entry_node,
                entry_dist,
                entry_next,
            ):  # more re-queued nodes than edges (rare): grow the queue and search again
                size = 2 * entry_node.shape[0]
                entry_node = np.empty(size, dtype=np.int32)
                entry_dist = np.empty(size, dtype=np.int32)
                entry_next = np.empty(size, dtype=np.int32)
            for p in range(dest_ptr[g], dest_ptr[g + 1]):
                d = dests[p]
                out_cs[p] = dist[d]
                for j in range(k_acc):
                    out_acc[p, j] = acc[d, j]
    return out_cs, out_acc


@nb.njit(parallel=True, cache=True)
def _matrix(indptr, indices, w_cs, edge_acc, sources, targets, n_threads):  # pragma: no cover
    n = indptr.shape[0] - 1
    n_src = sources.shape[0]
    n_dst = targets.shape[0]
    out_cs = np.empty((n_src, n_dst), dtype=np.int32)
    out_len = np.empty((n_src, n_dst), dtype=np.float64)
    shift, n_buckets = _buckets(w_cs)
    for t in nb.prange(n_threads):
        dist = np.empty(n, dtype=np.int32)
        acc = np.empty((n, 1), dtype=np.float64)
        counted = np.empty(n, dtype=np.bool_)
        expanded = np.empty(n, dtype=np.bool_)
        mark = np.zeros(n, dtype=np.int32)
        n_targets = 0
        for j in range(n_dst):
            if mark[targets[j]] != 1:
                mark[targets[j]] = 1
                n_targets += 1
        head = np.empty(n_buckets, dtype=np.int32)
        entry_node = np.empty(indices.shape[0] + 1, dtype=np.int32)
        entry_dist = np.empty(indices.shape[0] + 1, dtype=np.int32)
        entry_next = np.empty(indices.shape[0] + 1, dtype=np.int32)
        for s in range(t, n_src, n_threads):
            while not _pair_search(
                indptr,
                indices,
                w_cs,
                edge_acc,
                shift,
                n_buckets,
                sources[s],
                1,
                mark,
                n_targets,
                dist,
                acc,
                counted,
                expanded,
                head,
                entry_node,
                entry_dist,
                entry_next,
            ):  # more re-queued nodes than edges (rare): grow the queue and search again
                size = 2 * entry_node.shape[0]
                entry_node = np.empty(size, dtype=np.int32)
                entry_dist = np.empty(size, dtype=np.int32)
                entry_next = np.empty(size, dtype=np.int32)
            for j in range(n_dst):
                out_cs[s, j] = dist[targets[j]]
                out_len[s, j] = acc[targets[j], 0]
    return out_cs, out_len


def pairs(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int64],
    weight_cs: npt.NDArray[np.int64],
    edge_acc: npt.NDArray[np.float64],
    origins: npt.NDArray[np.int64],
    dests: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Fastest path of each (origin, destination) pair, and edge quantities summed along it.

    Pairs that share an origin share one search, which stops once all of that origin's
    destinations are settled. Ties in time go to the path with the smaller first quantity
    (use length as column 0).

    Parameters
    ----------
    indptr, indices, weight_cs
        The graph in CSR form with whole-centisecond edge times (at least 1).
    edge_acc
        ``(n_edges, K)`` quantities to add up along each path (column 0: length).
    origins, dests
        Node index of each pair's two ends.

    Returns
    -------
    travel_cs, sums
        ``(P,)`` centiseconds (``inf`` if unreachable) and ``(P, K)`` sums.
    """
    o = np.asarray(origins, dtype=np.int64)
    d = np.asarray(dests, dtype=np.int64)
    order = np.argsort(o, kind="stable")
    uniq, start = np.unique(o[order], return_index=True)
    dest_ptr = np.append(start, o.shape[0]).astype(np.int64)
    threads = max(1, min(nb.get_num_threads(), uniq.shape[0]))
    cs, sums = _pairs(
        np.ascontiguousarray(indptr, dtype=np.int32),
        np.ascontiguousarray(indices, dtype=np.int32),
        np.ascontiguousarray(weight_cs, dtype=np.int32),
        np.ascontiguousarray(edge_acc, dtype=np.float64),
        uniq,
        dest_ptr,
        np.ascontiguousarray(d[order]),
        threads,
    )
    travel = np.empty(o.shape[0], dtype=np.float64)
    out = np.empty_like(sums)
    travel[order] = np.where(cs == _INF, np.inf, cs.astype(np.float64))
    out[order] = sums
    return travel, out
