"""Contraction hierarchy of a road map, and many-to-many matrices over it (RPHAST).

Why: Dial's search (:mod:`fleetroute.maps.dial`) settles the whole city once per source,
~12 ms on a 200k-node city, so a 5,000-stop day spent a minute on its matrix. A contraction
hierarchy is built once per map (~25 s for 200k nodes, then cached on disk beside the
map's arrays); after that a matrix row is an upward search from the source plus one linear
sweep over the part of the hierarchy the targets need (RPHAST: Delling, Goldberg and
Werneck, "Faster batched shortest paths in road networks", 2011), ~0.5 ms on that city.

Paths are compared by one integer key per edge, ``centiseconds << 32 | centimetres``:
fastest first, ties to the shorter path, as Dial's search and scipy's do. Sums of keys
stay exact, so the times equal Dial's to the centisecond; lengths are the sums of edge
lengths rounded to the centimetre.

Building: nodes are contracted lowest priority first (edge difference, contracted
neighbours and level, updated lazily). Contracting ``v`` adds a shortcut ``u -> w`` for
each pair of its neighbours unless a witness search from ``u`` that avoids ``v`` finds a
path at least as good; the witness search is cut after a few hundred settled nodes,
which can only add shortcuts that were not needed, never lose a path.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numba as nb
import numpy as np
import numpy.typing as npt

from fleetroute.maps._arrays import csr_order, save_npz

__all__ = ["Hierarchy", "INF_KEY", "edge_keys"]

IntArray = npt.NDArray[np.int64]

#: Key of an unreachable node: far above any path's key, and safe to add an edge key to.
INF_KEY = np.int64(1) << np.int64(62)
_LOW = np.int64((1 << 32) - 1)

#: Settled nodes after which a witness search gives up: while simulating a contraction
#: (for priorities) and while contracting.
_SIMULATE_LIMIT = 20
_CONTRACT_LIMIT = 1000


def edge_keys(weight_cs: npt.ArrayLike, length_m: npt.ArrayLike) -> IntArray:
    """Edge keys ``centiseconds << 32 | centimetres``: adding them adds both."""
    cs = np.asarray(weight_cs, dtype=np.int64)
    cm = np.rint(np.asarray(length_m, dtype=np.float64) * 100.0).astype(np.int64)
    return np.ascontiguousarray((cs << 32) | np.clip(cm, 0, int(_LOW)))


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """A contraction hierarchy over graph nodes ``0..n-1``.

    Attributes
    ----------
    pos
        Each node's place in the sweep: higher levels first, so every hierarchy edge goes
        from a smaller place to a larger one (or, upward, the other way round).
    up_ptr, up_head, up_key
        Upward edges in CSR by place: ``u -> w`` with ``w`` higher than ``u``.
    down_ptr, down_tail, down_key
        Downward edges in CSR by the place of their head: ``u -> v`` with ``u`` higher.
    """

    pos: IntArray
    up_ptr: IntArray
    up_head: npt.NDArray[np.int32]
    up_key: IntArray
    down_ptr: IntArray
    down_tail: npt.NDArray[np.int32]
    down_key: IntArray

    @classmethod
    def build(cls, indptr: npt.ArrayLike, heads: npt.ArrayLike, keys: IntArray) -> Hierarchy:
        """Contract the graph ``indptr``/``heads`` (CSR) with edge ``keys`` (:func:`edge_keys`)."""
        ptr = np.ascontiguousarray(indptr, dtype=np.int64)
        n = ptr.shape[0] - 1
        level, lo, hi, key, up = _contract(
            ptr,
            np.ascontiguousarray(heads, dtype=np.int32),
            np.ascontiguousarray(keys, dtype=np.int64),
            _SIMULATE_LIMIT,
            _CONTRACT_LIMIT,
        )
        order = np.lexsort((np.arange(n), -level))
        pos = np.empty(n, dtype=np.int64)
        pos[order] = np.arange(n)
        up_ptr, up_head, up_key = _csr(n, pos[lo[up]], pos[hi[up]], key[up])
        down_ptr, down_tail, down_key = _csr(n, pos[lo[~up]], pos[hi[~up]], key[~up])
        return cls(pos, up_ptr, up_head, up_key, down_ptr, down_tail, down_key)

    @property
    def n_edges(self) -> int:
        """Hierarchy edges: the graph's edges and the shortcuts, up and down."""
        return int(self.up_head.shape[0] + self.down_tail.shape[0])

    def matrix(
        self, sources: npt.ArrayLike, targets: npt.ArrayLike, *, cs_per_unit: float = 1.0
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Times and metres of the best paths between graph nodes (RPHAST), as
        ``(len(sources), len(targets))`` arrays; ``inf`` where unreachable.

        Times are centiseconds divided by ``cs_per_unit`` (100 gives seconds). The sweep covers
        only the targets and the nodes above them, once per source, sources in parallel
        threads; a target given twice costs only its column.
        """
        t = self.pos[np.asarray(targets, dtype=np.int64)]
        s = self.pos[np.asarray(sources, dtype=np.int64)]
        local, ptr, tail, key = _restrict(self.down_ptr, self.down_tail, self.down_key, t)
        threads = max(1, min(nb.get_num_threads(), s.shape[0]))
        up = (self.up_ptr, self.up_head, self.up_key)
        return _sweep(up, local, ptr, tail, key, s, local[t], float(cs_per_unit), threads)

    def write_npz(self, path: Path) -> None:
        """Save the arrays (atomically) for :meth:`read_npz`."""
        save_npz(path, {f.name: getattr(self, f.name) for f in dataclasses.fields(self)})

    @classmethod
    def read_npz(cls, path: Path) -> Hierarchy:
        """Load a hierarchy saved by :meth:`write_npz`."""
        with np.load(path, allow_pickle=False) as data:
            return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})


def _csr(
    n: int, rows: IntArray, cols: IntArray, vals: IntArray
) -> tuple[IntArray, npt.NDArray[np.int32], IntArray]:
    ptr, order = csr_order(n, rows, cols)
    return ptr, cols[order].astype(np.int32), np.ascontiguousarray(vals[order])


# ---------------------------------------------------------------- compiled kernels


@nb.njit(nogil=True, cache=True)
def _push(hk, hv, size, k, v):  # pragma: no cover - compiled
    """Push ``(k, v)`` on the binary min-heap ``hk``/``hv`` of ``size`` (grown as needed)."""
    if size == hk.shape[0]:
        nk = np.empty(2 * size, np.int64)
        nk[:size] = hk
        hk = nk
        nv = np.empty(2 * size, np.int32)
        nv[:size] = hv
        hv = nv
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= k:
            break
        hk[i] = hk[p]
        hv[i] = hv[p]
        i = p
    hk[i] = k
    hv[i] = v
    return hk, hv, size + 1


@nb.njit(nogil=True, cache=True)
def _pop(hk, hv, size):  # pragma: no cover - compiled
    """Pop the smallest ``(k, v)``; returns it and the new size."""
    k0 = hk[0]
    v0 = hv[0]
    size -= 1
    if size > 0:
        k = hk[size]
        v = hv[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and hk[c + 1] < hk[c]:
                c += 1
            if hk[c] >= k:
                break
            hk[i] = hk[c]
            hv[i] = hv[c]
            i = c
        hk[i] = k
        hv[i] = v
    return k0, v0, size


@nb.njit(cache=True)
def _append(start, cnt, cap, nbr, key, fill, x, y, k):  # pragma: no cover - compiled
    """Append ``(y, k)`` to node ``x``'s list in a pool; a full list moves to the pool's
    end with twice the room (the pool grows when it must). Returns the pool and its fill."""
    if cnt[x] == cap[x]:
        room = max(4, 2 * cap[x])
        if fill + room > nbr.shape[0]:
            size = max(2 * nbr.shape[0], fill + room)
            n2 = np.empty(size, np.int32)
            n2[:fill] = nbr[:fill]
            nbr = n2
            k2 = np.empty(size, np.int64)
            k2[:fill] = key[:fill]
            key = k2
        s = start[x]
        for i in range(cnt[x]):
            nbr[fill + i] = nbr[s + i]
            key[fill + i] = key[s + i]
        start[x] = fill
        cap[x] = room
        fill += room
    p = start[x] + cnt[x]
    nbr[p] = y
    key[p] = k
    cnt[x] += 1
    return nbr, key, fill


@nb.njit(cache=True)
def _remove(start, cnt, nbr, key, x, y):  # pragma: no cover - compiled
    """Remove ``y`` from node ``x``'s list (swapping the last entry in)."""
    s = start[x]
    for i in range(s, s + cnt[x]):
        if nbr[i] == y:
            last = s + cnt[x] - 1
            nbr[i] = nbr[last]
            key[i] = key[last]
            cnt[x] -= 1
            return


@nb.njit(cache=True)
def _lower(start, cnt, nbr, key, x, y, k):  # pragma: no cover - compiled
    """Lower the key of ``x``'s entry ``y`` to ``k``; False if there is no such entry."""
    for i in range(start[x], start[x] + cnt[x]):
        if nbr[i] == y:
            if k < key[i]:
                key[i] = k
            return True
    return False


@nb.njit(cache=True)
def _witness(  # pragma: no cover - compiled
    src, skip, bound, limit, g, dist, touched, heap, mark, stamp, n_marked
):
    """Dijkstra from ``src`` avoiding ``skip``, up to key ``bound`` and ``limit`` settled
    nodes or until the ``n_marked`` nodes marked ``stamp`` are settled. Leaves its keys in
    ``dist`` (the first returned count of ``touched`` nodes, for the caller to reset)."""
    o_start, o_cnt, o_nbr, o_key = g
    hk, hv = heap
    dist[src] = 0
    touched[0] = src
    n_touched = 1
    size = 0
    hk, hv, size = _push(hk, hv, size, 0, src)
    settled = 0
    left = n_marked
    while size > 0:
        k, u, size = _pop(hk, hv, size)
        if k > dist[u]:
            continue
        if k > bound or settled >= limit:
            break
        settled += 1
        if mark[u] == stamp:
            left -= 1
            if left == 0:
                break
        for i in range(o_start[u], o_start[u] + o_cnt[u]):
            w = o_nbr[i]
            nk = k + o_key[i]
            if w != skip and nk < dist[w] and nk <= bound:
                if dist[w] == INF_KEY:
                    touched[n_touched] = w
                    n_touched += 1
                dist[w] = nk
                hk, hv, size = _push(hk, hv, size, nk, w)
    return n_touched, (hk, hv)


@nb.njit(cache=True)
def _shortcuts(v, limit, g_out, g_in, dist, touched, heap, mark, stamp):  # pragma: no cover
    """The shortcuts contracting ``v`` needs: ``(count, tails, heads, keys, heap)``."""
    o_start, o_cnt, o_nbr, o_key = g_out
    i_start, i_cnt, i_nbr, i_key = g_in
    cap = i_cnt[v] * o_cnt[v]
    su = np.empty(cap, np.int32)
    sw = np.empty(cap, np.int32)
    sk = np.empty(cap, np.int64)
    m = 0
    for a in range(i_start[v], i_start[v] + i_cnt[v]):
        u = i_nbr[a]
        k_uv = i_key[a]
        bound = np.int64(-1)
        stamp[0] += 1
        n_marked = 0
        for b in range(o_start[v], o_start[v] + o_cnt[v]):
            w = o_nbr[b]
            if w != u:
                bound = max(bound, k_uv + o_key[b])
                if mark[w] != stamp[0]:
                    mark[w] = stamp[0]
                    n_marked += 1
        if n_marked == 0:
            continue
        n_touched, heap = _witness(
            u, v, bound, limit, g_out, dist, touched, heap, mark, stamp[0], n_marked
        )
        for b in range(o_start[v], o_start[v] + o_cnt[v]):
            w = o_nbr[b]
            c = k_uv + o_key[b]
            if w != u and dist[w] > c:
                su[m] = u
                sw[m] = w
                sk[m] = c
                m += 1
        for t in range(n_touched):
            dist[touched[t]] = INF_KEY
    return m, su, sw, sk, heap


@nb.njit(cache=True)
def _priority(x, n_shortcuts, i_cnt, o_cnt, deleted, level):  # pragma: no cover - compiled
    """Contraction priority of ``x`` (lowest first): twice its edge difference (shortcuts
    added less edges removed), plus its contracted neighbours and its level."""
    return 2 * (n_shortcuts - i_cnt[x] - o_cnt[x]) + deleted[x] + level[x]


@nb.njit(cache=True)
def _contract(indptr, heads, keys, simulate_limit, contract_limit):  # pragma: no cover
    """Contract every node; returns each node's level and the hierarchy edges
    ``(lower, higher, key, upward)`` (upward: ``lower -> higher``, else the reverse)."""
    n = indptr.shape[0] - 1
    m0 = heads.shape[0]
    # each node's out- and in-lists of uncontracted neighbours, in two growable pools
    o_start = np.empty(n, np.int64)
    o_cnt = np.zeros(n, np.int64)
    o_cap = np.empty(n, np.int64)
    i_start = np.empty(n, np.int64)
    i_cnt = np.zeros(n, np.int64)
    i_cap = np.empty(n, np.int64)
    in_deg = np.zeros(n, np.int64)
    for e in range(m0):
        in_deg[heads[e]] += 1
    o_fill = 0
    i_fill = 0
    for v in range(n):
        o_cap[v] = indptr[v + 1] - indptr[v] + 2
        o_start[v] = o_fill
        o_fill += o_cap[v]
        i_cap[v] = in_deg[v] + 2
        i_start[v] = i_fill
        i_fill += i_cap[v]
    o_nbr = np.empty(2 * o_fill, np.int32)
    o_key = np.empty(2 * o_fill, np.int64)
    i_nbr = np.empty(2 * i_fill, np.int32)
    i_key = np.empty(2 * i_fill, np.int64)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            w = heads[e]
            if w == u or _lower(o_start, o_cnt, o_nbr, o_key, u, w, keys[e]):
                if w != u:  # a parallel edge: keep the better key both ways
                    _lower(i_start, i_cnt, i_nbr, i_key, w, u, keys[e])
                continue
            o_nbr[o_start[u] + o_cnt[u]] = w
            o_key[o_start[u] + o_cnt[u]] = keys[e]
            o_cnt[u] += 1
            i_nbr[i_start[w] + i_cnt[w]] = u
            i_key[i_start[w] + i_cnt[w]] = keys[e]
            i_cnt[w] += 1

    dist = np.full(n, INF_KEY, np.int64)
    touched = np.empty(n, np.int32)
    heap = (np.empty(64, np.int64), np.empty(64, np.int32))
    mark = np.zeros(n, np.int64)
    stamp = np.zeros(1, np.int64)
    seen = np.full(n, -1, np.int64)
    deleted = np.zeros(n, np.int64)
    level = np.zeros(n, np.int64)
    prio = np.empty(n, np.int64)
    qk = np.empty(n, np.int64)
    qv = np.empty(n, np.int32)
    qs = 0
    for v in range(n):
        s, _, _, _, heap = _shortcuts(
            v, simulate_limit, (o_start, o_cnt, o_nbr, o_key), (i_start, i_cnt, i_nbr, i_key),
            dist, touched, heap, mark, stamp,
        )  # fmt: skip
        prio[v] = _priority(v, s, i_cnt, o_cnt, deleted, level)
        qk, qv, qs = _push(qk, qv, qs, prio[v], v)

    done = np.zeros(n, np.bool_)
    h_lo = np.empty(2 * m0, np.int32)
    h_hi = np.empty(2 * m0, np.int32)
    h_key = np.empty(2 * m0, np.int64)
    h_up = np.empty(2 * m0, np.bool_)
    nh = 0
    while qs > 0:
        p, v, qs = _pop(qk, qv, qs)
        if done[v] or p != prio[v]:
            continue  # contracted already, or a stale priority
        s, su, sw, sk, heap = _shortcuts(
            v, contract_limit, (o_start, o_cnt, o_nbr, o_key), (i_start, i_cnt, i_nbr, i_key),
            dist, touched, heap, mark, stamp,
        )  # fmt: skip
        now = _priority(v, s, i_cnt, o_cnt, deleted, level)
        if now > p and qs > 0 and now > qk[0]:  # lazy update: no longer the cheapest
            prio[v] = now
            qk, qv, qs = _push(qk, qv, qs, now, v)
            continue
        # v's remaining edges become hierarchy edges to higher nodes
        need = nh + o_cnt[v] + i_cnt[v]
        if need > h_lo.shape[0]:
            size = max(2 * h_lo.shape[0], need)
            a = np.empty(size, np.int32)
            a[:nh] = h_lo[:nh]
            h_lo = a
            a = np.empty(size, np.int32)
            a[:nh] = h_hi[:nh]
            h_hi = a
            b = np.empty(size, np.int64)
            b[:nh] = h_key[:nh]
            h_key = b
            c = np.empty(size, np.bool_)
            c[:nh] = h_up[:nh]
            h_up = c
        for i in range(o_start[v], o_start[v] + o_cnt[v]):
            h_lo[nh], h_hi[nh], h_key[nh], h_up[nh] = v, o_nbr[i], o_key[i], True
            nh += 1
            _remove(i_start, i_cnt, i_nbr, i_key, o_nbr[i], v)
        for i in range(i_start[v], i_start[v] + i_cnt[v]):
            h_lo[nh], h_hi[nh], h_key[nh], h_up[nh] = v, i_nbr[i], i_key[i], False
            nh += 1
            _remove(o_start, o_cnt, o_nbr, o_key, i_nbr[i], v)
        for j in range(s):
            u, w, c = su[j], sw[j], sk[j]
            if _lower(o_start, o_cnt, o_nbr, o_key, u, w, c):
                _lower(i_start, i_cnt, i_nbr, i_key, w, u, c)
            else:
                o_nbr, o_key, o_fill = _append(o_start, o_cnt, o_cap, o_nbr, o_key, o_fill, u, w, c)
                i_nbr, i_key, i_fill = _append(i_start, i_cnt, i_cap, i_nbr, i_key, i_fill, w, u, c)
        done[v] = True
        # neighbours: one more contracted neighbour, a level above v, a new priority
        for side in range(2):
            start, cnt, nbr = (o_start, o_cnt, o_nbr) if side == 0 else (i_start, i_cnt, i_nbr)
            for i in range(start[v], start[v] + cnt[v]):
                x = nbr[i]
                if seen[x] != v:
                    seen[x] = v
                    deleted[x] += 1
                    level[x] = max(level[x], level[v] + 1)
        for side in range(2):
            start, cnt, nbr = (o_start, o_cnt, o_nbr) if side == 0 else (i_start, i_cnt, i_nbr)
            for i in range(start[v], start[v] + cnt[v]):
                x = nbr[i]
                if seen[x] == v:
                    seen[x] = -2
                    s2, _, _, _, heap = _shortcuts(
                        x, simulate_limit, (o_start, o_cnt, o_nbr, o_key),
                        (i_start, i_cnt, i_nbr, i_key), dist, touched, heap, mark, stamp,
                    )  # fmt: skip
                    now = _priority(x, s2, i_cnt, o_cnt, deleted, level)
                    if now != prio[x]:
                        prio[x] = now
                        qk, qv, qs = _push(qk, qv, qs, now, x)
    return level, h_lo[:nh], h_hi[:nh], h_key[:nh], h_up[:nh]


@nb.njit(cache=True)
def _restrict(down_ptr, down_tail, down_key, targets):  # pragma: no cover - compiled
    """The targets and every node above them (by downward edges), in sweep order: each
    place's local index (-1: not needed) and the downward edges among them in CSR."""
    n = down_ptr.shape[0] - 1
    local = np.full(n, -1, np.int64)
    stack = np.empty(n, np.int64)
    sp = 0
    for t in targets:
        if local[t] < 0:
            local[t] = 0
            stack[sp] = t
            sp += 1
    while sp > 0:
        sp -= 1
        v = stack[sp]
        for e in range(down_ptr[v], down_ptr[v + 1]):
            u = down_tail[e]
            if local[u] < 0:
                local[u] = 0
                stack[sp] = u
                sp += 1
    count = 0
    n_edges = 0
    for v in range(n):
        if local[v] == 0:
            local[v] = count
            count += 1
            n_edges += down_ptr[v + 1] - down_ptr[v]
        else:
            local[v] = -1
    ptr = np.zeros(count + 1, np.int64)
    tail = np.empty(n_edges, np.int32)
    key = np.empty(n_edges, np.int64)
    c = 0
    for v in range(n):
        if local[v] >= 0:
            for e in range(down_ptr[v], down_ptr[v + 1]):
                tail[c] = local[down_tail[e]]
                key[c] = down_key[e]
                c += 1
            ptr[local[v] + 1] = c
    return local, ptr, tail, key


@nb.njit(parallel=True, cache=True)
def _sweep(up, local, ptr, tail, key, sources, t_local, per_unit, n_threads):  # pragma: no cover
    """Per source: an upward Dijkstra, then one pass down the restricted hierarchy."""
    up_ptr, up_head, up_key = up
    n = up_ptr.shape[0] - 1
    n_sel = ptr.shape[0] - 1
    n_src = sources.shape[0]
    n_dst = t_local.shape[0]
    out_cs = np.empty((n_src, n_dst), np.float64)
    out_m = np.empty((n_src, n_dst), np.float64)
    for t in nb.prange(n_threads):
        lab = np.full(n, INF_KEY, np.int64)
        touched = np.empty(n, np.int32)
        hk = np.empty(64, np.int64)
        hv = np.empty(64, np.int32)
        d = np.empty(n_sel, np.int64)
        for si in range(t, n_src, n_threads):
            s = sources[si]
            lab[s] = 0
            touched[0] = s
            n_touched = 1
            size = 0
            hk, hv, size = _push(hk, hv, size, 0, s)
            while size > 0:
                k, u, size = _pop(hk, hv, size)
                if k > lab[u]:
                    continue
                for e in range(up_ptr[u], up_ptr[u + 1]):
                    w = up_head[e]
                    nk = k + up_key[e]
                    if nk < lab[w]:
                        if lab[w] == INF_KEY:
                            touched[n_touched] = w
                            n_touched += 1
                        lab[w] = nk
                        hk, hv, size = _push(hk, hv, size, nk, w)
            d[:] = INF_KEY
            for i in range(n_touched):
                x = touched[i]
                if local[x] >= 0:
                    d[local[x]] = lab[x]
                lab[x] = INF_KEY
            for j in range(n_sel):
                best = d[j]
                for e in range(ptr[j], ptr[j + 1]):
                    c = d[tail[e]] + key[e]
                    if c < best:
                        best = c
                d[j] = best
            for j in range(n_dst):
                k = d[t_local[j]]
                if k >= INF_KEY:
                    out_cs[si, j] = np.inf
                    out_m[si, j] = np.inf
                else:
                    out_cs[si, j] = (k >> 32) / per_unit
                    out_m[si, j] = (k & _LOW) / 100.0
    return out_cs, out_m
