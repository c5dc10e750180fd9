"""The matcher: mentions of organizations and persons → entities, with the rule and score of every merge.

Stages, per kind (organizations and persons never meet):

1. **Features.** Names are taken apart (`entities.names.normalize_org`, `entities.persons.parse_person`; in
   `MatchConfig.workers` spawned processes when there are many); BIN/IIN fields are checked (`entities.identifiers.check_id`) — only valid ids are keys, invalid ones are
   reported in `Resolution.invalid_ids`, never silently dropped. Mentions that are identical for matching
   (same compared name, legal type, numbers, places, ids, and for persons the same context) become one node.
2. **Must-links.** Same valid BIN/IIN; `same` judgements.
3. **Blocking** (near-linear): every node gets its rarest few keys (compared words, word prefixes and
   suffixes, number + word; for persons surname and surname prefix + initial). A bucket up to `bucket_cap`
   nodes yields all its pairs; a bigger one only neighbours in sorted order (sorted-neighbourhood); a bucket
   over `stopword_bucket` nodes is a stop-word and yields nothing.
4. **Scoring and vetoes.** Organizations: rapidfuzz `ratio` on the sorted skeleton words (= token_sort_ratio,
   4× faster); vetoes for different valid ids, legal-form type, numbers, places, head office vs branch.
   Persons: `entities.persons.compare` (gender, initials, patronymic vetoes) and the context rule — initials
   link only within the same organization context, and no name links two different contexts on its own.
   A person's context (a BIN or an organization name as written) is itself resolved as an organization
   mention first, so «ТОО "Кунделик"», «Kundelik LLP» and its BIN are one context.
5. **Ambiguity.** A node whose strong candidates contradict each other (school №5 without a city, strongly
   similar to school №5 of Astana and of Almaty) links to none of them: the pairs go to review — unless one
   candidate says more (all three name parts, or for persons the same organization context, which outranks
   any spelling).
6. **Clustering.** Union-find over the must-links, then the auto-link pairs by descending score; a merge is
   refused when it would put a conflict in one cluster (two BINs, two legal types, two places, two genders,
   two contexts for persons) or join clusters a `different` judgement separates.
   Then, for persons, an initials-only mention named for no organization («М.Б. Ильясов»), or a single
   initial within one («Г. Беляев» of school X), joins the one entity it is compatible with
   (`person_initials_unique`); with two or more candidates that say who they are (a full given name, an
   IIN, another organization) it stays apart, in review.
7. **Review band** (pairs scored between the review and the auto-link thresholds, ambiguous and refused
   pairs), most important first; **stable entity ids** (`kz-bin-<BIN>`; otherwise a hash of the smallest
   member reference, so a re-run on the same input gives the same ids).

Nothing here touches a database: the build streams mentions in as `Record`s, `ashyq resolve` reads a CSV.
"""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import time
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from rapidfuzz import fuzz, process

from entities.identifiers import bin_info, check_id, iin_hash, iin_info, looks_like_iin
from entities.names import OrgName, normalize_org, places_compatible
from entities.persons import PersonMatch, PersonName, compare, parse_person

Kind = Literal["organization", "person"]
KINDS: tuple[Kind, ...] = ("organization", "person")


@dataclass(frozen=True, slots=True)
class Record:
    """One mention to resolve."""

    ref: (
        str  # stable reference of the mention (CSV record_id; `judgements.mention_ref` for database mentions)
    )
    kind: Kind
    name: str
    bin: str | None = None
    iin: str | None = None
    iin_hash: str | None = None  # keyed hash of a valid IIN (persons; an IE organization: its owner's IIN)
    context: str | None = None  # persons: the organization they were named for (BIN or name)
    weight: float = 1.0  # importance in the review queue (e.g. the contract amounts behind the mention)


class JudgementLike(Protocol):
    @property
    def left_ref(self) -> str: ...
    @property
    def right_ref(self) -> str: ...
    @property
    def decision(self) -> str: ...


@dataclass(frozen=True, slots=True)
class MatchConfig:
    org_auto: float = 90.0  # ratio on compared names at or above which organizations link
    org_review: float = 80.0  # … and from which a pair is worth a human look
    person_review: float = 80.0
    bucket_cap: int = 40  # blocking bucket size up to which all pairs are compared
    stopword_bucket: int = 20_000  # bucket size from which a key is a stop-word
    window: int = 6  # sorted-neighbourhood window inside a capped bucket
    keys_per_node: int = 6  # the rarest this many blocking keys per node
    workers: int = 2  # processes taking names apart (from `parallel_from` distinct names on)
    parallel_from: int = 50_000


@dataclass(frozen=True, slots=True)
class Link:
    """One merge: why `left` and `right` are the same entity."""

    left: str
    right: str
    rule: str  # id (BIN), iin, judgement, name, person_full3, person_full2, person_initials_same_context,
    # person_initials_unique
    score: float


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where one mention points, and why (the link that brought its node into the entity)."""

    entity_id: str
    rule: str  # 'singleton' for an entity of one node
    score: float | None
    via: str | None  # the reference on the other side of that link


@dataclass(frozen=True, slots=True)
class ReviewPair:
    left: str
    right: str
    left_entity: str
    right_entity: str
    kind: Kind
    score: float
    reason: (
        str  # review_band, ambiguous, conflict:<what>, different_context, initials_without_context, unsure
    )
    importance: float


@dataclass(frozen=True, slots=True)
class InvalidId:
    ref: str
    field: str  # bin | iin
    value: str
    reason: str  # wrong_length, no_control_digit, bad_control_digit


@dataclass
class Resolution:
    assignments: dict[str, Assignment] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    review: list[ReviewPair] = field(default_factory=list)
    invalid_ids: list[InvalidId] = field(default_factory=list)
    unapplied_judgements: list[tuple[JudgementLike, str]] = field(default_factory=list)
    context_entities: dict[str, str] = field(default_factory=dict)  # a person's context → organization entity
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    def entity_of(self, ref: str) -> str:
        return self.assignments[ref].entity_id

    def entities(self) -> dict[str, list[str]]:
        """Entity id → member references."""
        out: dict[str, list[str]] = {}
        for ref, a in self.assignments.items():
            out.setdefault(a.entity_id, []).append(ref)
        return out


# References of the stand-in records made from persons' contexts; never in a Resolution.
CONTEXT_PREFIX = "\x1fcontext:"


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]  # noqa: S324 - an id, not a security hash


def anchor_entity_id(kind: Kind, ref: str) -> str:
    """The id of an entity without BIN/IIN whose smallest member reference is `ref`."""
    return ("org-" if kind == "organization" else "person-") + _short_hash(ref)


# ------------------------------------------------------------------------------------------ union-find


class _Clusters:
    """Union-find whose roots remember what their members are, to refuse merges that would join a conflict."""

    def __init__(self, n: int, sigs: Sequence[int], ctxs: Sequence[str | None] | None) -> None:
        self.parent = list(range(n))
        self.size = [1] * n
        self.sigs: list[set[int] | None] = [{s} for s in sigs]
        self.ctxs: list[set[str] | None] | None = None
        if ctxs is not None:
            self.ctxs = [({c} if c else set()) for c in ctxs]
        self.forbid: dict[int, set[int]] = {}  # root → nodes it must never join (different judgements)

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def forbidden(self, ra: int, rb: int) -> bool:
        return any(self.find(x) == rb for x in self.forbid.get(ra, ())) or any(
            self.find(x) == ra for x in self.forbid.get(rb, ())
        )

    def contexts_compatible(self, ra: int, rb: int) -> bool:
        """Persons: two clusters named for different organizations (and none in common) stay apart."""
        if self.ctxs is None:
            return True
        ca, cb = self.ctxs[ra], self.ctxs[rb]
        return not ca or not cb or bool(ca & cb)

    def union(self, ra: int, rb: int) -> int:
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        sa, sb = self.sigs[ra], self.sigs[rb]
        assert sa is not None
        assert sb is not None
        sa |= sb
        self.sigs[rb] = None
        if self.ctxs is not None:
            ca, cb = self.ctxs[ra], self.ctxs[rb]
            assert ca is not None
            assert cb is not None
            ca |= cb
            self.ctxs[rb] = None
        if rb in self.forbid:
            self.forbid.setdefault(ra, set()).update(self.forbid.pop(rb))
        return ra


# -------------------------------------------------------------------------------------- kind matchers


@dataclass
class _Edge:
    a: int
    b: int
    score: float
    rule: str


class _KindMatcher:
    """Shared machinery; subclasses provide features, blocking keys, pair scoring and compatibility."""

    kind: Kind

    def __init__(self, config: MatchConfig) -> None:
        self.config = config
        self.refs: list[str] = []
        self.weights: list[float] = []
        self.node_of: list[int] = []  # record → node
        self.node_first: list[int] = []  # node → its first record
        self.node_sig: list[int] = []
        self.node_usable: list[bool] = []
        self.node_key_index: dict[tuple[object, ...], int] = {}
        self.sig_index: dict[tuple[object, ...], int] = {}
        self.sig_values: list[tuple[object, ...]] = []
        self.compat_cache: dict[tuple[int, int], str | None] = {}
        self.record_ids: list[tuple[str, ...]] = []  # per record: valid id keys ('bin:…', 'iin:…')
        self.id_kind: dict[str, str] = {}  # id key → 'bin' or 'ie_iin' (for entity ids)
        self.isolate: set[str] = set()  # references that get a node of their own

    # --- nodes and signatures
    def _sig(self, sig: tuple[object, ...]) -> int:
        idx = self.sig_index.get(sig)
        if idx is None:
            idx = self.sig_index[sig] = len(self.sig_values)
            self.sig_values.append(sig)
        return idx

    def _add(
        self, ref: str, weight: float, node_key: tuple[object, ...] | None, sig: int, usable: bool
    ) -> int:
        rec = len(self.refs)
        self.refs.append(ref)
        self.weights.append(weight)
        if ref in self.isolate:
            node_key = None  # named in a `different` judgement: it must be able to leave its twins
        node = self.node_key_index.get(node_key) if node_key is not None else None
        if node is None:
            node = len(self.node_first)
            if node_key is not None:
                self.node_key_index[node_key] = node
            self.node_first.append(rec)
            self.node_sig.append(sig)
            self.node_usable.append(usable)
            self._new_node(rec)
        self.node_of.append(node)
        return rec

    def _new_node(self, rec: int) -> None:  # subclasses keep per-node features
        raise NotImplementedError

    def conflict(self, sa: int, sb: int) -> str | None:
        """Why two signatures cannot be one entity (None: they can)."""
        if sa == sb:
            return None
        key = (sa, sb) if sa < sb else (sb, sa)
        if key not in self.compat_cache:
            self.compat_cache[key] = self._conflict(self.sig_values[sa], self.sig_values[sb])
        return self.compat_cache[key]

    def _conflict(self, a: tuple[object, ...], b: tuple[object, ...]) -> str | None:
        raise NotImplementedError

    def cluster_conflict(self, cl: _Clusters, ra: int, rb: int) -> str | None:
        sa, sb = cl.sigs[ra], cl.sigs[rb]
        assert sa is not None
        assert sb is not None
        for x in sa:
            for y in sb:
                why = self.conflict(x, y)
                if why is not None:
                    return why
        return None

    # --- blocking
    def blocking_keys(self, node: int) -> list[str]:
        raise NotImplementedError

    def sort_text(self, node: int) -> str:
        raise NotImplementedError

    def _reversed_text(self, node: int) -> str:
        return self.sort_text(node)[::-1]

    def candidate_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Node pairs worth scoring (a < b, each pair once), from each node's `keys_per_node` rarest keys."""
        cfg = self.config
        n_nodes = len(self.node_first)
        key_ids: dict[str, int] = {}
        # Typed arrays, not lists: ~10 keys per node make lists of Python ints cost ~36 bytes an entry
        # (hundreds of MB at a million mentions) where an int64 array costs 8.
        node_col = array("q")
        key_col = array("q")
        for n in range(n_nodes):
            if not self.node_usable[n]:
                continue
            for k in set(self.blocking_keys(n)):
                node_col.append(n)
                key_col.append(key_ids.setdefault(k, len(key_ids)))
        if not key_ids:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        nodes = np.frombuffer(node_col, dtype=np.int64).copy()
        keys = np.frombuffer(key_col, dtype=np.int64).copy()
        del node_col, key_col
        # Ties between equally rare keys are broken by a checksum of the key, so input order does not matter.
        tiebreak = np.fromiter((zlib.crc32(k.encode()) for k in key_ids), dtype=np.int64, count=len(key_ids))
        del key_ids
        freq = np.bincount(keys)[keys]
        useful = (freq > 1) & (freq < cfg.stopword_bucket)
        nodes, keys, freq = nodes[useful], keys[useful], freq[useful]
        order = np.lexsort((tiebreak[keys], freq, nodes))
        nodes, keys = nodes[order], keys[order]
        starts = np.flatnonzero(np.r_[True, nodes[1:] != nodes[:-1]])
        rank = np.arange(len(nodes)) - np.repeat(starts, np.diff(np.r_[starts, len(nodes)]))
        keep = rank < cfg.keys_per_node
        nodes, keys = nodes[keep], keys[keep]
        order = np.lexsort((nodes, keys))
        nodes, keys = nodes[order], keys[order]
        bstart = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        bsize = np.diff(np.r_[bstart, len(keys)])
        los: list[np.ndarray] = []
        his: list[np.ndarray] = []
        for m in range(2, cfg.bucket_cap + 1):
            sel = bstart[bsize == m]
            if len(sel):
                members = nodes[sel[:, None] + np.arange(m)]
                i, j = np.triu_indices(m, k=1)
                los.append(members[:, i].ravel())
                his.append(members[:, j].ravel())
        big = np.flatnonzero(bsize > cfg.bucket_cap)
        if len(big):
            # Sorted neighbourhood inside oversized buckets, by the text and by its reverse (a typo at the
            # start of a name still meets its twin).
            for text_of in (self.sort_text, self._reversed_text):
                texts = [text_of(n) if self.node_usable[n] else "" for n in range(n_nodes)]
                ranked = sorted(range(n_nodes), key=lambda n: (texts[n], n))
                text_rank = np.empty(n_nodes, dtype=np.int64)
                text_rank[np.array(ranked, dtype=np.int64)] = np.arange(n_nodes)
                for bi in big.tolist():
                    members = nodes[bstart[bi] : bstart[bi] + bsize[bi]]
                    members = members[np.argsort(text_rank[members], kind="stable")]
                    for w in range(1, cfg.window + 1):
                        los.append(members[:-w])
                        his.append(members[w:])
        if not los:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        lo = np.concatenate(los)
        hi = np.concatenate(his)
        codes = np.minimum(lo, hi) * n_nodes + np.maximum(lo, hi)
        del lo, hi
        codes.sort()  # sorting then dropping repeats is several times faster than np.unique's hashing here
        codes = codes[np.r_[True, codes[1:] != codes[:-1]]]
        return codes // n_nodes, codes % n_nodes

    # --- scoring
    def score_pairs(self, a: np.ndarray, b: np.ndarray) -> Iterator[tuple[int, int, float, str, bool]]:
        """(a, b, score, rule or review reason, auto) for candidate pairs worth keeping."""
        raise NotImplementedError

    def must_links(self) -> Iterator[tuple[int, int, str]]:
        """Node pairs sharing a valid BIN/IIN."""
        first_with: dict[str, int] = {}
        for rec, ids in enumerate(self.record_ids):
            for key in ids:
                other = first_with.setdefault(key, rec)
                if other != rec and self.node_of[other] != self.node_of[rec]:
                    kind = key.split(":", 1)[0]
                    yield self.node_of[other], self.node_of[rec], "iin" if kind == "iinh" else kind

    def entity_id_for(self, ids: set[str], anchor_ref: str) -> str:
        raise NotImplementedError


class _OrgMatcher(_KindMatcher):
    kind: Kind = "organization"

    def __init__(self, config: MatchConfig) -> None:
        super().__init__(config)
        self.node_core: list[str] = []
        self.rec_name: list[OrgName] = []
        self.context_refs: dict[str, str] = {}  # context text → the reference of its stand-in record
        self.pending: list[Record] = []

    def add_context(self, context: str) -> None:
        """A person's context (a BIN or an organization name) as a stand-in organization mention, so that
        «ТОО "Кунделик"», «Kundelik LLP» and its BIN are one context. Added after all real mentions."""
        ref = CONTEXT_PREFIX + context
        self.context_refs[context] = ref
        chk = check_id(context) if context.isdigit() else None
        if chk is not None and chk.valid is not None:
            self.add(Record(ref, "organization", "", bin=context, weight=0.0))
        else:
            self.add(Record(ref, "organization", context, weight=0.0))

    def add(self, r: Record) -> None:
        self.pending.append(r)

    def names(self) -> list[str]:
        """The distinct names to take apart (sources repeat one supplier string thousands of times)."""
        return list(dict.fromkeys(r.name for r in self.pending))

    def build_nodes(self, parsed: dict[str, OrgName], invalid: list[InvalidId]) -> None:
        for r in self.pending:
            self._add_org(r, parsed[r.name], invalid)
        self.pending = []

    def _add_org(self, r: Record, org: OrgName, invalid: list[InvalidId]) -> None:
        ids: list[str] = []
        branch = org.branch
        for fld, raw in (("bin", r.bin), ("iin", r.iin)):
            chk = check_id(raw)
            if chk.status == "invalid" and chk.value is not None:
                invalid.append(InvalidId(r.ref, fld, chk.value, chk.reason or "invalid"))
            if chk.valid is None:
                continue
            ident = chk.valid
            # An individual entrepreneur trades under the owner's IIN, which goszakup puts in the BIN field.
            as_iin = fld == "iin" or (org.legal_type in {"ie", "farm"} and looks_like_iin(ident))
            # An owner's IIN is keyed by its hash, so that it meets mentions that only carry the hash.
            key = f"iinh:{iin_hash(ident)}" if as_iin else f"id:{ident}"
            ids.append(key)
            self.id_kind.setdefault(key, "ie_iin" if as_iin else "bin")
            info = bin_info(ident) if not as_iin else None
            if info is not None and info.branch:
                branch = True
        if r.iin_hash:
            # The keyed hash of an individual entrepreneur's IIN (as `mentions.iin_hash` keeps it): an
            # identifier like a BIN — the same hash links, a different one vetoes.
            key = f"iinh:{r.iin_hash}"
            ids.append(key)
            self.id_kind.setdefault(key, "ie_iin")
        id_set = frozenset(ids)
        if r.name.strip():
            sig = self._sig((id_set, org.legal_type, org.numbers, org.places, branch))
        else:
            sig = self._sig((id_set, None, None, None, None))  # no name: nothing to disagree with
        usable = bool(org.core)
        node_key = (org.core, sig) if usable else None
        self.rec_name.append(org)
        self.record_ids.append(tuple(sorted(id_set)))
        self._add(r.ref, r.weight, node_key, sig, usable)

    def _new_node(self, rec: int) -> None:
        self.node_core.append(self.rec_name[rec].core)

    def _conflict(self, a: tuple[object, ...], b: tuple[object, ...]) -> str | None:
        ids_a, type_a, num_a, places_a, branch_a = a
        ids_b, type_b, num_b, places_b, branch_b = b
        assert isinstance(ids_a, frozenset)
        assert isinstance(ids_b, frozenset)
        if ids_a and ids_b and not ids_a & ids_b:
            return "bin"
        if type_a is not None and type_b is not None and type_a != type_b:
            return "legal_form"
        if num_a is None or num_b is None:
            return None  # a mention without a name (a BIN alone)
        if num_a != num_b:
            return "number"
        if branch_a != branch_b:
            return "branch"
        assert isinstance(places_a, frozenset)
        assert isinstance(places_b, frozenset)
        if not places_compatible(places_a, places_b):
            return "place"
        return None

    def blocking_keys(self, node: int) -> list[str]:
        core = self.node_core[node]
        org = self.rec_name[self.node_first[node]]
        keys = ["c" + core]
        for tok in core.split():
            if len(tok) >= 3:
                keys.append("t" + tok)
            if len(tok) >= 6:
                keys.append("p" + tok[:4])
                keys.append("s" + tok[-4:])
            keys.extend(f"n{num}|{tok}" for num in org.numbers)
        return keys

    def sort_text(self, node: int) -> str:
        return self.node_core[node]

    def score_pairs(self, a: np.ndarray, b: np.ndarray) -> Iterator[tuple[int, int, float, str, bool]]:
        cfg = self.config
        if len(a) == 0:
            return
        lengths = np.fromiter((len(c) for c in self.node_core), dtype=np.int64, count=len(self.node_core))
        la, lb = lengths[a], lengths[b]
        # ratio ≥ r needs 2·min/(la+lb) ≥ r/100: drop pairs whose lengths alone rule it out.
        keep = 200 * np.minimum(la, lb) >= cfg.org_review * (la + lb)
        a, b = a[keep], b[keep]
        cores = np.array(self.node_core, dtype=object)
        scores = process.cpdist(
            cores[a], cores[b], scorer=fuzz.ratio, workers=2, score_cutoff=cfg.org_review, dtype=np.float32
        )
        hit = scores >= cfg.org_review
        for x, y, s in zip(a[hit].tolist(), b[hit].tolist(), scores[hit].tolist(), strict=True):
            why = self.conflict(self.node_sig[x], self.node_sig[y])
            if why is not None:
                continue
            if s >= cfg.org_auto:
                yield x, y, s, "name", True
            else:
                yield x, y, s, "review_band", False

    def entity_id_for(self, ids: set[str], anchor_ref: str) -> str:
        if ids:
            bins = sorted(k for k in ids if k.startswith("id:"))
            if bins:
                return "kz-bin-" + bins[0].split(":", 1)[1]
            return "kz-ip-" + min(ids).split(":", 1)[1][:16]  # never the IIN itself: it would end up in URLs
        return anchor_entity_id("organization", anchor_ref)


class _PersonMatcher(_KindMatcher):
    kind: Kind = "person"

    def __init__(self, config: MatchConfig) -> None:
        super().__init__(config)
        self.rec_person: list[PersonName] = []
        self.rec_ctx: list[str | None] = []
        self.node_person: list[PersonName] = []
        self.node_ctx: list[str | None] = []
        self.pending: list[Record] = []

    def add(self, r: Record) -> None:
        """Nodes wait until the names are parsed and the contexts resolved (`build_nodes`)."""
        self.pending.append(r)

    def names(self) -> list[str]:
        return list(dict.fromkeys(r.name for r in self.pending))

    def contexts(self) -> set[str]:
        return {r.context.strip() for r in self.pending if r.context is not None and r.context.strip()}

    def build_nodes(
        self, parsed: dict[str, PersonName], entity_of_context: dict[str, str], invalid: list[InvalidId]
    ) -> None:
        """Nodes, with each context replaced by the organization entity it resolved to."""
        for r in self.pending:
            raw = r.context.strip() if r.context is not None else ""
            self._add_person(r, parsed[r.name], entity_of_context.get(raw) if raw else None, invalid)
        self.pending = []

    def _add_person(self, r: Record, person: PersonName, ctx: str | None, invalid: list[InvalidId]) -> None:
        hashed = r.iin_hash
        chk = check_id(r.iin)
        if chk.status == "invalid" and chk.value is not None:
            invalid.append(InvalidId(r.ref, "iin", chk.value, chk.reason or "invalid"))
        if chk.valid is not None:
            hashed = iin_hash(chk.valid)
            info = iin_info(chk.valid)
            if info is not None and person.gender != info.sex:
                # The IIN knows the sex for certain; a name's ending only suggests it.
                person = _with_gender(person, info.sex)
        ids = (f"iin:{hashed}",) if hashed else ()
        sig = self._sig((hashed, person, ctx))
        usable = person.usable
        # Identical names are one node only when they could not be two people: a full given name or one IIN.
        # «Ильясов Д.Ж.» twice in one school may be two brothers; each stays a node, so that the ambiguity
        # check can see them.
        groupable = usable and (person.given is not None or hashed is not None)
        node_key = (person.key, person.gender, hashed, ctx) if groupable else None
        self.rec_person.append(person)
        self.rec_ctx.append(ctx)
        self.record_ids.append(ids)
        self._add(r.ref, r.weight, node_key, sig, usable)

    def _new_node(self, rec: int) -> None:
        self.node_person.append(self.rec_person[rec])
        self.node_ctx.append(self.rec_ctx[rec])

    def _conflict(self, a: tuple[object, ...], b: tuple[object, ...]) -> str | None:
        hash_a, pa, _ = a
        hash_b, pb, _ = b
        if hash_a and hash_b:
            return None if hash_a == hash_b else "iin"
        assert isinstance(pa, PersonName)
        assert isinstance(pb, PersonName)
        return compare(pa, pb).veto

    def blocking_keys(self, node: int) -> list[str]:
        p = self.node_person[node]
        assert p.surname is not None
        keys = [
            "s" + p.surname,
            f"q{p.surname[:4]}|{p.given_initial}",
            f"x{p.surname[-4:]}|{p.given_initial}",
        ]
        if not p.order_certain and p.given:
            keys.append("s" + p.given)  # the parser may have swapped surname and given name
        return keys

    def sort_text(self, node: int) -> str:
        p = self.node_person[node]
        return f"{p.surname} {p.given or p.given_initial}"

    def score_pairs(self, a: np.ndarray, b: np.ndarray) -> Iterator[tuple[int, int, float, str, bool]]:
        cfg = self.config
        for x, y in zip(a.tolist(), b.tolist(), strict=True):
            pa, pb = self.node_person[x], self.node_person[y]
            sx, sy = self.sig_values[self.node_sig[x]][0], self.sig_values[self.node_sig[y]][0]
            if sx and sy and sx != sy:
                continue  # two different IINs
            m = compare(pa, pb)
            if m.veto is not None or m.score < cfg.person_review:
                continue
            rule, auto = person_link_rule(m, self.node_ctx[x], self.node_ctx[y])
            if rule == "person_initials_same_context" and not (
                pa.patronymic_initial and pb.patronymic_initial
            ):
                # «Г. Беляев» names any of the Беляевs Г. of that organization (brothers share a patronymic, and
                # this one cannot be told apart): only when it is compatible with one entity (see below).
                rule, auto = "initials_one_part", False
            yield x, y, m.score, rule, auto

    def entity_id_for(self, ids: set[str], anchor_ref: str) -> str:
        if ids:
            return "person-iin-" + min(ids).split(":", 1)[1][:16]
        return anchor_entity_id("person", anchor_ref)


def _with_gender(p: PersonName, gender: Literal["m", "f"]) -> PersonName:
    return dataclasses.replace(p, gender=gender)


# How much of a name two mentions agree on, for settling ambiguity (see `_resolve_kind`).
_LINK_STRENGTH = {"person_full3": 3, "person_full2": 2, "person_initials_same_context": 1}
_SAME_CONTEXT_STRENGTH = 10


def person_link_rule(m: PersonMatch, ctx_a: str | None, ctx_b: str | None) -> tuple[str, bool]:
    """(rule, auto-link?) for a scored, unvetoed person pair.

    Precision first. A full name (surname + given name, patronymic where both give one) links unless the two
    mentions were named for different organizations: namesakes are common, and only an IIN or a human may
    say that the director of one company is the official of another. Initials link only within one context.
    """
    conflict = ctx_a is not None and ctx_b is not None and ctx_a != ctx_b
    same_ctx = ctx_a is not None and ctx_a == ctx_b
    if m.tier == "full3" and m.score >= 90 and m.surname_score >= 85 and m.given_score >= 85:
        return ("person_full3", True) if not conflict else ("different_context", False)
    if m.tier == "full2" and m.surname_score >= 92 and m.given_score >= 90:
        return ("person_full2", True) if not conflict else ("different_context", False)
    if m.tier == "initials" and same_ctx and m.surname_score >= 85:
        # Within one organization a surname one slip away (Жмуабаева, Kulikoav) with the same initials is the
        # same person; across organizations only an exact surname may even be considered.
        return "person_initials_same_context", True
    if m.tier == "initials" and m.surname_score >= 95:
        return ("different_context" if conflict else "initials_without_context"), False
    return "review_band", False


# ------------------------------------------------------------------------------------------ the driver


def _take_apart_chunk(kind: Kind, names: list[str]) -> list[OrgName] | list[PersonName]:
    if kind == "organization":
        return [normalize_org(n) for n in names]
    return [parse_person(n) for n in names]


def _take_apart(
    org_names: list[str], person_names: list[str], workers: int, parallel_from: int = 50_000
) -> tuple[list[OrgName], list[PersonName]]:
    """Names taken apart, in `workers` processes when there are many (taking names apart is pure Python and
    the bulk of the work). The processes are spawned, not forked: the caller may hold database connections."""
    if workers <= 1 or len(org_names) + len(person_names) < parallel_from:
        return [normalize_org(n) for n in org_names], [parse_person(n) for n in person_names]
    size = 5_000
    jobs: list[tuple[Kind, list[str]]] = [
        ("organization", org_names[i : i + size]) for i in range(0, len(org_names), size)
    ]
    jobs += [("person", person_names[i : i + size]) for i in range(0, len(person_names), size)]
    orgs: list[OrgName] = []
    persons: list[PersonName] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for (kind, _), part in zip(jobs, pool.map(_take_apart_chunk, *zip(*jobs, strict=True)), strict=True):
            (orgs if kind == "organization" else persons).extend(part)  # type: ignore[arg-type]
    return orgs, persons


def _entity_ref_matches(kind: Kind, ref: str, id_key: str) -> bool:
    """Whether a BIN/IIN-based entity id (`kz-bin-…`, `kz-ip-…`, `person-iin-…`) names a record's id key."""
    if kind == "organization" and ref.startswith("kz-bin-"):
        return id_key == "id:" + ref.removeprefix("kz-bin-")
    if kind == "organization" and ref.startswith("kz-ip-") and len(ref) > len("kz-ip-"):
        return id_key.startswith("iinh:") and id_key.removeprefix("iinh:").startswith(
            ref.removeprefix("kz-ip-")
        )
    if kind == "person" and ref.startswith("person-iin-") and len(ref) > len("person-iin-"):
        return id_key.removeprefix("iin:").startswith(ref.removeprefix("person-iin-"))
    return False


def _judgement_nodes(
    ref: str, matcher: _KindMatcher, ref_index: dict[str, int], anchors: dict[str, int] | None
) -> list[int]:
    """The node a judgement reference names: a mention reference, or an entity id of any form."""
    if ref in ref_index:
        return [matcher.node_of[ref_index[ref]]]
    if anchors is not None and ref in anchors:
        return [matcher.node_of[anchors[ref]]]
    if ref.startswith(("kz-bin-", "kz-ip-", "person-iin-")):
        for rec, ids in enumerate(matcher.record_ids):
            if any(_entity_ref_matches(matcher.kind, ref, k) for k in ids):
                return [matcher.node_of[rec]]
    return []


def _resolve_kind(
    matcher: _KindMatcher, judgements: Sequence[JudgementLike], result: Resolution
) -> list[tuple[JudgementLike, int, int]]:
    """Cluster one kind; returns the judgements that applied to it (with their nodes)."""
    n_nodes = len(matcher.node_first)
    ctxs = matcher.node_ctx if isinstance(matcher, _PersonMatcher) else None
    cl = _Clusters(n_nodes, matcher.node_sig, ctxs)
    join_rule: dict[int, tuple[str, float, int]] = {}  # node → (rule, score, other node) of its first merge

    # Judgements that name mentions or entities of this kind.
    ref_index = {ref: i for i, ref in enumerate(matcher.refs)}
    anchors: dict[str, int] | None = None
    prefix = "org-" if matcher.kind == "organization" else "person-"
    if any(j.left_ref.startswith(prefix) or j.right_ref.startswith(prefix) for j in judgements):
        anchors = {anchor_entity_id(matcher.kind, ref): i for i, ref in enumerate(matcher.refs)}
    applied: list[tuple[JudgementLike, int, int]] = []
    for j in judgements:
        left = _judgement_nodes(j.left_ref, matcher, ref_index, anchors)
        right = _judgement_nodes(j.right_ref, matcher, ref_index, anchors)
        if left and right:
            applied.append((j, left[0], right[0]))
    for j, x, y in applied:
        if j.decision == "different":
            cl.forbid.setdefault(x, set()).add(y)
            cl.forbid.setdefault(y, set()).add(x)

    def merge(x: int, y: int, rule: str, score: float, check: bool) -> str | None:
        ra, rb = cl.find(x), cl.find(y)
        if ra == rb:
            return None
        if cl.forbidden(ra, rb):
            return "judgement"
        if check:
            why = matcher.cluster_conflict(cl, ra, rb)
            if why is None and not cl.contexts_compatible(ra, rb):
                why = "context"
            if why is not None:
                return why
        cl.union(ra, rb)
        join_rule.setdefault(x, (rule, score, y))
        join_rule.setdefault(y, (rule, score, x))
        left, right = matcher.refs[matcher.node_first[x]], matcher.refs[matcher.node_first[y]]
        if not left.startswith(CONTEXT_PREFIX) and not right.startswith(CONTEXT_PREFIX):
            result.links.append(Link(left, right, rule, score))
        return None

    for j, x, y in applied:
        if j.decision == "same":
            why = merge(x, y, "judgement", 100.0, check=False)
            if why is not None:
                result.unapplied_judgements.append((j, "conflicts with a 'different' judgement"))
    for x, y, rule in matcher.must_links():
        merge(x, y, rule, 100.0, check=False)

    started = time.perf_counter()
    a, b = matcher.candidate_pairs()
    result.timings[f"{matcher.kind}:blocking"] = time.perf_counter() - started
    result.timings[f"{matcher.kind}:candidate_pairs"] = float(len(a))
    started = time.perf_counter()
    auto: list[tuple[int, int, float, str]] = []
    review: list[tuple[int, int, float, str]] = []
    for x, y, score, rule, is_auto in matcher.score_pairs(a, b):
        (auto if is_auto else review).append((x, y, score, rule))
    del a, b
    result.timings[f"{matcher.kind}:scoring"] = time.perf_counter() - started
    started = time.perf_counter()

    # Ambiguity: a node whose strong candidates contradict each other links to none of the contradicting ones,
    # unless one candidate says more than the others (for persons: all three name parts agree, against only
    # surname and given name), in which case the weaker contradicting candidates go to review.
    neighbours: dict[int, list[tuple[int, int]]] = {}
    ctx_of = matcher.node_ctx if isinstance(matcher, _PersonMatcher) else None
    for x, y, _, rule in auto:
        strength = _LINK_STRENGTH.get(rule, 0)
        if ctx_of is not None and ctx_of[x] is not None and ctx_of[x] == ctx_of[y]:
            # Named for the same organization says more than any spelling: «Шынар Ыдырысова» of school X is the
            # «Ыдырысова Шынар Шарипкызы» of school X rather than a namesake named for no organization.
            strength += _SAME_CONTEXT_STRENGTH
        neighbours.setdefault(x, []).append((y, strength))
        neighbours.setdefault(y, []).append((x, strength))
    contested: set[tuple[int, int]] = set()
    for node, near in neighbours.items():
        if len(near) < 2:
            continue
        by_sig: dict[int, list[int]] = {}
        strength_of: dict[int, int] = {}
        for m, strength in near:
            sig = matcher.node_sig[m]
            by_sig.setdefault(sig, []).append(m)
            strength_of[sig] = max(strength_of.get(sig, 0), strength)
        sigs = list(by_sig)
        clashes = []
        for i, si in enumerate(sigs):
            for sj in sigs[i + 1 :]:
                clash = matcher.conflict(si, sj) is not None
                if not clash and ctx_of is not None:
                    ci, cj = ctx_of[by_sig[si][0]], ctx_of[by_sig[sj][0]]
                    clash = ci is not None and cj is not None and ci != cj
                if clash:
                    clashes.append((si, sj))
        if not clashes:
            continue
        top = max(strength_of.values())
        top_sigs = {sg for sg in sigs if strength_of[sg] == top}
        top_agrees = not any(si in top_sigs and sj in top_sigs for si, sj in clashes)
        for si, sj in clashes:
            losers = [sg for sg in (si, sj) if not (top_agrees and sg in top_sigs)]
            for sg in losers:
                for m in by_sig[sg]:
                    contested.add((min(node, m), max(node, m)))
    if isinstance(matcher, _PersonMatcher):
        # A full name named for no organization («Бейсенов Ерқанат») that fits the Ерқанат of school A, while an
        # «Е.М. Бейсенов» of school B fits it too, could be either: its link to school A is contested as well.
        ctx = matcher.node_ctx
        rivals: dict[int, set[str]] = {}
        for x, y, _, rule in review:
            if rule != "initials_without_context":
                continue
            for full, init in ((x, y), (y, x)):
                if ctx[full] is None and matcher.node_person[full].given is not None and ctx[init] is not None:
                    rivals.setdefault(full, set()).add(ctx[init])
        for x, y, _, _ in auto:
            for loose, placed in ((x, y), (y, x)):
                if ctx[loose] is None and ctx[placed] is not None and rivals.get(loose, set()) - {ctx[placed]}:
                    contested.add((min(x, y), max(x, y)))
    kept = []
    for x, y, score, rule in auto:
        if (min(x, y), max(x, y)) in contested:
            review.append((x, y, score, "ambiguous"))
        else:
            kept.append((x, y, score, rule))

    # Merge by descending score; ties broken by the members' references, so input order does not matter.
    rank = _ref_ranks(matcher)
    kept.sort(key=lambda e: (-e[2], min(rank[e[0]], rank[e[1]]), max(rank[e[0]], rank[e[1]])))
    for x, y, score, rule in kept:
        why = merge(x, y, rule, score, check=True)
        if why is not None and why != "judgement":
            review.append((x, y, score, f"conflict:{why}"))
    if isinstance(matcher, _PersonMatcher):
        _link_unique_initials(matcher, cl, review, rank, merge)

    result.timings[f"{matcher.kind}:clustering"] = time.perf_counter() - started
    # Entity ids and per-mention assignments.
    members: dict[int, list[int]] = {}
    for rec, node in enumerate(matcher.node_of):
        members.setdefault(cl.find(node), []).append(rec)
    ids_taken: set[str] = set()
    entity_of_root: dict[int, str] = {}
    weight_of_root: dict[int, float] = {}
    for root, recs in sorted(members.items(), key=lambda kv: min(matcher.refs[r] for r in kv[1])):
        ids = {k for r in recs for k in matcher.record_ids[r]}
        real = [matcher.refs[r] for r in recs if not matcher.refs[r].startswith(CONTEXT_PREFIX)]
        anchor = min(real) if real else min(matcher.refs[r] for r in recs)
        eid = matcher.entity_id_for(ids, anchor)
        if eid in ids_taken:  # two clusters with one BIN: only a `different` judgement can do that
            eid = anchor_entity_id(matcher.kind, anchor)
        ids_taken.add(eid)
        entity_of_root[root] = eid
        weight_of_root[root] = sum(matcher.weights[r] for r in recs)
        for r in recs:
            node = matcher.node_of[r]
            first = matcher.node_first[node]
            if r != first:
                result.assignments[matcher.refs[r]] = Assignment(
                    eid, "normalized_name", 100.0, matcher.refs[first]
                )
            elif node in join_rule:
                rule, score, other = join_rule[node]
                via = matcher.refs[matcher.node_first[other]]
                result.assignments[matcher.refs[r]] = Assignment(
                    eid, rule, score, None if via.startswith(CONTEXT_PREFIX) else via
                )
            else:
                result.assignments[matcher.refs[r]] = Assignment(eid, "singleton", None, None)

    # Review queue: pairs that ended in different entities, best pair per entity pair.
    decided = {
        frozenset((cl.find(x), cl.find(y))): j.decision
        for j, x, y in applied
        if j.decision in {"different", "unsure"}
    }
    best: dict[frozenset[int], tuple[int, int, float, str]] = {}
    for x, y, score, reason in review:
        rx, ry = cl.find(x), cl.find(y)
        if rx == ry:
            continue
        pair = frozenset((rx, ry))
        if decided.get(pair) == "different":
            continue
        if pair not in best or score > best[pair][2]:
            best[pair] = (x, y, score, "unsure" if decided.get(pair) == "unsure" else reason)
    for x, y, score, reason in best.values():
        rx, ry = cl.find(x), cl.find(y)
        if matcher.refs[matcher.node_first[x]].startswith(CONTEXT_PREFIX) or matcher.refs[
            matcher.node_first[y]
        ].startswith(CONTEXT_PREFIX):
            continue  # a pair of persons' contexts, not of mentions anyone asked about
        result.review.append(
            ReviewPair(
                left=matcher.refs[matcher.node_first[x]],
                right=matcher.refs[matcher.node_first[y]],
                left_entity=entity_of_root[rx],
                right_entity=entity_of_root[ry],
                kind=matcher.kind,
                score=round(float(score), 1),
                reason=reason,
                importance=weight_of_root[rx] + weight_of_root[ry],
            )
        )
    return applied


def _link_unique_initials(
    matcher: _PersonMatcher,
    cl: _Clusters,
    review: list[tuple[int, int, float, str]],
    rank: list[int],
    merge: Callable[[int, int, str, float, bool], str | None],
) -> None:
    """An initials-only mention named for no organization («Ф.А. Новиков»), or one with a single initial in an
    organization («Г. Беляев» of school X), joins the one entity it is compatible with, when after clustering
    there is exactly one (every candidate with that surname and those initials was scored: blocking keys the
    surname). Two or more compatible entities (namesakes, siblings with one initial) leave it alone, in review;
    so does an IIN on the mention (only the IIN may link it). Runs after all other links, so the entities it
    chooses among are final."""

    def ids_of(node: int) -> bool:
        return bool(matcher.sig_values[matcher.node_sig[node]][0])

    cands: dict[int, list[tuple[int, float]]] = {}
    for x, y, score, reason in review:
        if reason not in {"initials_without_context", "initials_one_part"}:
            continue
        for node, other in ((x, y), (y, x)):
            p = matcher.node_person[node]
            if ids_of(node):
                continue  # an initials mention with an IIN is someone definite: only the IIN links it
            if p.given is None and (reason == "initials_one_part" or matcher.node_ctx[node] is None):
                cands.setdefault(node, []).append((other, score))
    # Only candidates that say something about who they are count (a full given name, an IIN or another
    # organization): another «М. Ильясов» of the same organization, or of none, is the same puzzle.
    telling = {
        node: [
            (o, sc)
            for o, sc in near
            if matcher.node_person[o].given is not None
            or ids_of(o)
            or matcher.node_ctx[o] not in (None, matcher.node_ctx[node])
        ]
        for node, near in cands.items()
    }
    order = sorted(cands, key=lambda n: rank[n])
    # Rounds until nothing changes: «Ш. Токтарова» of school X joining the Шолпан of school X in one round turns
    # two candidates of the no-context «Ш.Т. Токтарова» into one entity, which the next round can see.
    for _ in range(8):
        linked: list[tuple[int, int, float]] = []
        for node in order:
            own = cl.find(node)
            if telling[node]:
                roots = {cl.find(o) for o, _ in telling[node]} - {own}
                if len(roots) != 1 or any(cl.find(o) == own for o, _ in telling[node]):
                    continue  # ambiguous, or already with one of its candidates
                other, score = max(telling[node], key=lambda c: (c[1], -rank[c[0]]))
                linked.append((node, other, score))
            elif matcher.node_ctx[node] is not None:
                # Nothing in the data tells of a second person: every mention of one organization that fits
                # «Д. Темирханова» is initials only («Д.С. Темирханова», another «Д. Темирханова»). When they
                # all fit each other they are one person; two that clash (Д.С. and Д.А.) leave it alone.
                # Judged on the whole group the mention is tied to by such candidates, not on its own neighbours:
                # «Д.С.» fits «Д.» and so does «Д.А.», which does not make Д.С. and Д.А. one person.
                same = [(o, sc) for o, sc in cands[node] if matcher.node_ctx[o] == matcher.node_ctx[node]]
                group, todo = {node}, [node]
                while todo:
                    for o, _ in cands.get(todo.pop(), ()):
                        if o not in group and matcher.node_ctx[o] == matcher.node_ctx[node]:
                            group.add(o)
                            todo.append(o)
                roots_group = sorted({cl.find(o) for o in group}, key=lambda r: rank[r])
                if len(roots_group) < 2 or not same or any(
                    matcher.cluster_conflict(cl, ra, rb) is not None
                    for i, ra in enumerate(roots_group)
                    for rb in roots_group[i + 1 :]
                ):
                    continue
                apart_from_it = [(o, sc) for o, sc in same if cl.find(o) != own]
                if not apart_from_it:
                    continue  # the rest of its group joins it from their own side
                other, score = max(apart_from_it, key=lambda c: (c[1], -rank[c[0]]))
                linked.append((node, other, score))
        # Decided on the clusters as they stood, so that within a round one initials mention cannot make
        # another's choice.
        merged = 0
        for node, other, score in linked:
            if cl.find(node) != cl.find(other) and merge(node, other, "person_initials_unique", score, True) is None:
                merged += 1
        if not merged:
            break


def _ref_ranks(matcher: _KindMatcher) -> list[int]:
    """Node → rank of its first reference among all nodes' first references."""
    order = sorted(range(len(matcher.node_first)), key=lambda n: matcher.refs[matcher.node_first[n]])
    rank = [0] * len(order)
    for i, n in enumerate(order):
        rank[n] = i
    return rank


def resolve(
    records: Iterable[Record],
    judgements: Iterable[JudgementLike] = (),
    config: MatchConfig | None = None,
) -> Resolution:
    """Resolve mentions to entities. `records` is consumed once (a database cursor will do)."""
    config = config or MatchConfig()
    result = Resolution()
    matchers: dict[Kind, _KindMatcher] = {
        "organization": _OrgMatcher(config),
        "person": _PersonMatcher(config),
    }
    orgs = matchers["organization"]
    persons = matchers["person"]
    assert isinstance(orgs, _OrgMatcher)
    assert isinstance(persons, _PersonMatcher)
    # The latest judgement on a pair supersedes earlier ones.
    latest: dict[frozenset[str], JudgementLike] = {}
    for j in judgements:
        if j.decision not in {"same", "different", "unsure"}:
            raise ValueError(f"judgement decision must be same, different or unsure, not {j.decision!r}")
        latest[frozenset((j.left_ref, j.right_ref))] = j
    pending = list(latest.values())
    separated = {ref for j in pending if j.decision == "different" for ref in (j.left_ref, j.right_ref)}
    orgs.isolate = persons.isolate = separated
    seen: set[str] = set()
    for r in records:
        if r.kind not in matchers:
            raise ValueError(f"record {r.ref!r}: kind must be 'organization' or 'person', not {r.kind!r}")
        if r.ref in seen or r.ref.startswith(CONTEXT_PREFIX):
            raise ValueError(f"record reference {r.ref!r} appears twice or is reserved")
        seen.add(r.ref)
        (orgs if r.kind == "organization" else persons).add(r)
    del seen
    for context in sorted(persons.contexts()):
        orgs.add_context(context)
    started = time.perf_counter()
    org_names, person_names = orgs.names(), persons.names()
    parsed_orgs, parsed_persons = _take_apart(org_names, person_names, config.workers, config.parallel_from)
    result.timings["names"] = time.perf_counter() - started
    orgs.build_nodes(dict(zip(org_names, parsed_orgs, strict=True)), result.invalid_ids)
    del org_names, parsed_orgs
    applied: list[JudgementLike] = []
    applied += [j for j, _, _ in _resolve_kind(orgs, pending, result)]
    result.context_entities = {
        c: result.assignments.pop(ref).entity_id for c, ref in orgs.context_refs.items()
    }
    persons.build_nodes(
        dict(zip(person_names, parsed_persons, strict=True)), result.context_entities, result.invalid_ids
    )
    del person_names, parsed_persons
    applied += [j for j, _, _ in _resolve_kind(persons, pending, result)]
    applied_ids = {id(j) for j in applied}
    for j in pending:
        if id(j) not in applied_ids:
            result.unapplied_judgements.append((j, "a reference matches no mention or entity of one kind"))
    result.review.sort(key=lambda p: (-p.importance, -p.score, p.left, p.right))
    return result
