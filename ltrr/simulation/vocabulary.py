"""The loop's document vocabulary: every docno it can meet, as an int id.

The world's lists, pages and qrels are held as int arrays over this vocabulary, so the loop
works on integers only. Ids are the docnos' ranks in sorted order (looked up by bisection),
and documents an outside online arm surfaces later are appended.
"""

from __future__ import annotations

import numpy as np


class DocIds:
    """A docno <-> int id vocabulary over every document the loop can meet."""

    def __init__(self, docnos) -> None:
        self.docnos = np.unique(np.asarray(list(docnos), dtype=str))
        self._sorted = self.docnos  # the first ids, ascending: looked up by bisection
        self._index = {d: i for i, d in enumerate(self.docnos.tolist())}

    def __len__(self) -> int:
        return len(self.docnos)

    def ids(self, docnos) -> np.ndarray:
        """Int ids of known docnos (unknown ones -> -1)."""
        wanted = np.asarray(docnos if isinstance(docnos, np.ndarray) else list(docnos),
                            dtype=str).reshape(-1)
        if not len(self._sorted):
            return np.full(len(wanted), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted, wanted), len(self._sorted) - 1)
        out = np.where(self._sorted[at] == wanted, at, -1).astype(np.int64)
        if len(self.docnos) > len(self._sorted):  # documents added since (not sorted)
            get = self._index.get
            for i in np.flatnonzero(out < 0):
                out[i] = get(str(wanted[i]), -1)
        return out

    def ids_adding(self, docnos: list[str]) -> np.ndarray:
        """Int ids of ``docnos``, adding unknown ones (the memory arm may surface new docs)."""
        found = list(map(self._index.get, docnos))
        if None in found:
            found = [self.add(d) if i is None else i for d, i in zip(docnos, found)]
        return np.array(found, dtype=np.int64)

    def add(self, docno: str) -> int:
        """The id of ``docno``, adding it when new (the memory arm may surface new docs)."""
        docno = str(docno)
        if docno not in self._index:
            self._index[docno] = len(self.docnos)
            self.docnos = np.append(self.docnos, docno)
        return self._index[docno]
