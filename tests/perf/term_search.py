"""Medical-term autocomplete at 100,000 terms: `search_terms` beside the naive trigram ranking.

The database holds the 56 seeded terms plus generated ones: combinations of about 40 conditions,
90 body parts, sides, courses, severities and contexts in both languages, with ICD-like codes.
Common words (pain / đau, left / trái, chronic / mạn tính) are as frequent as in a real
vocabulary, so a short prefix matches thousands of rows. The queries are what a person types,
keystroke by keystroke: prefixes of 1–12 characters of real terms, English and Vietnamese, with
and without accents, in any case, and ICD-10 prefixes; a separate row times one-typo words.

Run: ``.venv/bin/python -m tests.perf.term_search [postgresql+psycopg://…]``. Without a URL it
builds a throwaway embedded server in a temporary directory (a minute or two). Figures, not
assertions: `make test` never runs this.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from clinic_tui.domain.search_text import fold

TERMS = 100_000
QUERIES = 300
TYPO_QUERIES = 50
ROUNDS = 3  # passes over the queries; each query's median counts
TARGET_P95_MS = 5.0
SEED = 20240606

# (en, vi, ICD-10 stem, category): the condition half of a generated term.
CONDITIONS = [
    ("pain", "Đau", "M79.6", "symptom"), ("stiffness", "Cứng", "M25.6", "symptom"),
    ("swelling", "Sưng", "M25.4", "symptom"), ("weakness", "Yếu", "M62.8", "symptom"),
    ("numbness", "Tê bì", "R20.0", "symptom"), ("tingling", "Dị cảm", "R20.2", "symptom"),
    ("cramp", "Chuột rút", "R25.2", "symptom"), ("instability", "Mất vững", "M25.3", "symptom"),
    ("sprain", "Bong gân", "S93.4", "condition"), ("strain", "Căng cơ", "S76.1", "condition"),
    ("fracture", "Gãy xương", "S82.0", "condition"),
    ("stress fracture", "Gãy xương do mỏi", "M84.3", "condition"),
    ("dislocation", "Trật khớp", "S83.1", "condition"),
    ("contusion", "Đụng dập", "S80.0", "condition"),
    ("tendinopathy", "Bệnh lý gân", "M76.8", "condition"),
    ("tendon rupture", "Đứt gân", "M66.3", "condition"),
    ("bursitis", "Viêm túi hoạt dịch", "M70.9", "condition"),
    ("synovitis", "Viêm màng hoạt dịch", "M65.9", "condition"),
    ("arthritis", "Viêm khớp", "M13.9", "condition"),
    ("osteoarthritis", "Thoái hóa", "M19.9", "condition"),
    ("rheumatoid arthritis", "Viêm khớp dạng thấp", "M06.9", "condition"),
    ("gout", "Gút", "M10.9", "condition"), ("contracture", "Co rút", "M24.5", "condition"),
    ("muscle atrophy", "Teo cơ", "M62.5", "condition"),
    ("nerve entrapment", "Chèn ép thần kinh", "G58.9", "condition"),
    ("neuralgia", "Đau dây thần kinh", "M79.2", "condition"),
    ("deformity", "Biến dạng", "M21.9", "condition"),
    ("impingement", "Hội chứng chèn ép", "M75.4", "condition"),
    ("hypermobility", "Tăng vận động", "M35.7", "condition"),
    ("post-operative stiffness", "Cứng khớp sau mổ", "M96.8", "condition"),
    ("overuse injury", "Tổn thương do quá tải", "T79.6", "condition"),
    ("laceration", "Vết rách", "S81.8", "condition"),
    ("scar adhesion", "Dính sẹo", "L90.5", "condition"),
    ("heterotopic ossification", "Cốt hóa lạc chỗ", "M61.5", "condition"),
    ("osteoporosis", "Loãng xương", "M81.9", "condition"),
    ("avascular necrosis", "Hoại tử vô mạch", "M87.9", "condition"),
    ("limited range of motion", "Hạn chế tầm vận động", "M25.8", "symptom"),
]  # fmt: skip
BODY_PARTS = [
    ("shoulder", "vai"), ("knee", "khớp gối"), ("hip", "khớp háng"), ("ankle", "cổ chân"),
    ("wrist", "cổ tay"), ("elbow", "khuỷu tay"), ("neck", "cổ"), ("lower back", "thắt lưng"),
    ("upper back", "lưng trên"), ("thoracic spine", "cột sống ngực"),
    ("cervical spine", "cột sống cổ"), ("lumbar spine", "cột sống thắt lưng"),
    ("sacrum", "xương cùng"), ("coccyx", "xương cụt"), ("pelvis", "khung chậu"),
    ("sacroiliac joint", "khớp cùng chậu"), ("pubic symphysis", "khớp mu"), ("groin", "bẹn"),
    ("buttock", "mông"), ("thigh", "đùi"), ("hamstring", "cơ đùi sau"),
    ("quadriceps", "cơ tứ đầu đùi"), ("adductor", "cơ khép háng"),
    ("iliotibial band", "dải chậu chày"), ("kneecap", "xương bánh chè"),
    ("patellar tendon", "gân bánh chè"), ("meniscus", "sụn chêm"),
    ("anterior cruciate ligament", "dây chằng chéo trước"),
    ("posterior cruciate ligament", "dây chằng chéo sau"),
    ("medial collateral ligament", "dây chằng bên trong"),
    ("lateral collateral ligament", "dây chằng bên ngoài"), ("shin", "cẳng chân"),
    ("calf", "bắp chân"), ("Achilles tendon", "gân gót"), ("heel", "gót chân"),
    ("plantar fascia", "cân gan chân"), ("arch of the foot", "vòm bàn chân"),
    ("forefoot", "bàn chân trước"), ("midfoot", "giữa bàn chân"),
    ("big toe", "ngón chân cái"), ("lesser toes", "các ngón chân nhỏ"), ("foot", "bàn chân"),
    ("hand", "bàn tay"), ("palm", "lòng bàn tay"), ("thumb", "ngón tay cái"),
    ("index finger", "ngón trỏ"), ("middle finger", "ngón giữa"),
    ("ring finger", "ngón áp út"), ("little finger", "ngón út"),
    ("finger joint", "khớp ngón tay"), ("forearm", "cẳng tay"), ("upper arm", "cánh tay"),
    ("biceps", "cơ nhị đầu"), ("triceps", "cơ tam đầu"), ("rotator cuff", "chóp xoay"),
    ("supraspinatus", "cơ trên gai"), ("deltoid", "cơ delta"),
    ("shoulder blade", "xương bả vai"), ("collarbone", "xương đòn"),
    ("acromioclavicular joint", "khớp cùng đòn"), ("sternum", "xương ức"),
    ("rib", "xương sườn"), ("chest wall", "thành ngực"), ("abdominal wall", "thành bụng"),
    ("jaw", "hàm"), ("temporomandibular joint", "khớp thái dương hàm"),
    ("trapezius", "cơ thang"), ("scalene muscles", "cơ bậc thang"),
    ("sternocleidomastoid", "cơ ức đòn chũm"), ("erector spinae", "cơ dựng sống"),
    ("piriformis", "cơ hình lê"), ("gluteus medius", "cơ mông nhỡ"),
    ("hip flexors", "cơ gấp háng"), ("tibia", "xương chày"), ("fibula", "xương mác"),
    ("femur", "xương đùi"), ("humerus", "xương cánh tay"), ("radius", "xương quay"),
    ("ulna", "xương trụ"), ("scaphoid", "xương thuyền"), ("carpal tunnel", "ống cổ tay"),
    ("ulnar nerve", "thần kinh trụ"), ("median nerve", "thần kinh giữa"),
    ("radial nerve", "thần kinh quay"), ("sciatic nerve", "thần kinh tọa"),
    ("peroneal nerve", "thần kinh mác"), ("brachial plexus", "đám rối cánh tay"),
    ("lateral epicondyle", "mỏm trên lồi cầu ngoài"),
]  # fmt: skip
# (en, vi, weight): most terms carry one or two modifiers, few carry all four.
SIDES = [("", "", 30), ("left", "trái", 30), ("right", "phải", 30),
         ("bilateral", "hai bên", 10)]  # fmt: skip
COURSES = [("", "", 50), ("acute", "cấp tính", 20), ("chronic", "mạn tính", 20),
           ("recurrent", "tái phát", 5), ("subacute", "bán cấp", 5)]  # fmt: skip
SEVERITIES = [("", "", 70), ("mild", "mức độ nhẹ", 10), ("moderate", "mức độ vừa", 10),
              ("severe", "mức độ nặng", 10)]  # fmt: skip
CONTEXTS = [("", "", 55), ("after trauma", "sau chấn thương", 8),
            ("after surgery", "sau phẫu thuật", 8), ("in children", "ở trẻ em", 6),
            ("in older adults", "ở người cao tuổi", 6), ("work-related", "do nghề nghiệp", 5),
            ("sports-related", "do chơi thể thao", 6), ("during pregnancy", "khi mang thai", 3),
            ("after a fall", "sau té ngã", 3)]  # fmt: skip


def _join(*words: str) -> str:
    return " ".join(word for word in words if word)


def _pick(rng: random.Random, options: list[tuple[str, str, int]]) -> int:
    return rng.choices(range(len(options)), weights=[o[2] for o in options])[0]


def generated_terms(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """`count` distinct bilingual terms, e.g. "Chronic left knee pain after surgery" /
    "Đau khớp gối trái mạn tính sau phẫu thuật", code "M79.611"."""
    seen: set[tuple[int, ...]] = set()
    rows: list[dict[str, Any]] = []
    while len(rows) < count:
        key = (
            rng.randrange(len(CONDITIONS)),
            rng.randrange(len(BODY_PARTS)),
            _pick(rng, SIDES),
            _pick(rng, COURSES),
            _pick(rng, SEVERITIES),
            _pick(rng, CONTEXTS),
        )
        if key in seen:
            continue
        seen.add(key)
        c, p, s, co, sv, cx = key
        cond_en, cond_vi, stem, category = CONDITIONS[c]
        part_en, part_vi = BODY_PARTS[p]
        side_en, side_vi = SIDES[s][:2]
        en = _join(COURSES[co][0], SEVERITIES[sv][0], side_en, part_en, cond_en, CONTEXTS[cx][0])
        vi = _join(cond_vi, part_vi, side_vi, COURSES[co][1], SEVERITIES[sv][1], CONTEXTS[cx][1])
        aliases = []
        if rng.random() < 0.25:
            aliases.append(_join(side_en, part_en, cond_en))
        if rng.random() < 0.15:
            aliases.append(_join(cond_vi.lower(), part_vi.removeprefix("khớp "), side_vi))
        rows.append(
            {
                "term_en": en[0].upper() + en[1:],
                "term_vi": vi.replace("khớp khớp", "khớp"),
                "category": category,
                "icd10_code": f"{stem}{p % 10}{s}" if rng.random() < 0.8 else None,
                "aliases": aliases,
            }
        )
    return rows


def _pool(session: Session) -> list[tuple[str, str, str | None]]:
    """Terms people look up: a sample of the whole vocabulary, the seeded everyday terms
    weighted up (they are typed far more often than any one generated term)."""
    sample = session.execute(
        text(
            "SELECT term_en, term_vi, icd10_code FROM vietnamese_medical_terms"
            " TABLESAMPLE BERNOULLI (2) REPEATABLE (7) ORDER BY id"
        )
    ).all()
    seeded = session.execute(
        text(
            "SELECT term_en, term_vi, icd10_code FROM vietnamese_medical_terms"
            " WHERE description_en IS NOT NULL ORDER BY term_en"
        )
    ).all()
    return [tuple(row) for row in [*sample, *seeded * 10]]  # type: ignore[misc]


def _styled(typed: str, rng: random.Random) -> str:
    style = rng.random()
    if style < 0.5:
        return fold(typed)  # the usual: no accents, lower case
    if style < 0.6:
        return typed.upper()
    if style < 0.8:
        return typed.lower()
    return typed


def typed_queries(pool: list[tuple[str, str, str | None]], rng: random.Random) -> list[str]:
    """A prefix (1–12 characters) of a term in either language, styled as people type it;
    one query in ten an ICD-10 prefix (at least letter and digit)."""
    queries: list[str] = []
    while len(queries) < QUERIES:
        en, vi, code = rng.choice(pool)
        if rng.random() < 0.1:
            if code:
                queries.append(code[: rng.randint(2, len(code))].lower())
            continue
        typed = _styled((en if rng.random() < 0.5 else vi)[: rng.randint(1, 12)], rng)
        if typed.strip():
            queries.append(typed)
    return queries


def typo_queries(pool: list[tuple[str, str, str | None]], rng: random.Random) -> list[str]:
    """A word of five letters or more with one slip: two letters swapped, one dropped or
    one doubled."""
    queries: list[str] = []
    while len(queries) < TYPO_QUERIES:
        en, vi, _code = rng.choice(pool)
        words = [w for w in fold(rng.choice((en, vi))).split() if len(w) >= 5]
        if not words:
            continue
        word = rng.choice(words)
        at = rng.randrange(1, len(word) - 2)
        slip = rng.randrange(3)
        if slip == 0:
            word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        elif slip == 1:
            word = word[:at] + word[at + 1 :]
        else:
            word = word[:at] + word[at] + word[at:]
        queries.append(word)
    return queries


# --- the database --------------------------------------------------------------------------


def populate(url: str, total: int = TERMS) -> int:
    """Top the vocabulary up to `total` terms with generated ones; returns how many it added."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            have = session.scalar(text("SELECT count(*) FROM vietnamese_medical_terms")) or 0
            missing = max(0, total - have)
            rows = generated_terms(missing, random.Random(SEED))
            for start in range(0, len(rows), 5000):
                session.execute(
                    text(
                        "INSERT INTO vietnamese_medical_terms"
                        " (term_en, term_vi, category, icd10_code, aliases)"
                        " VALUES (:term_en, :term_vi, :category, :icd10_code, :aliases)"
                    ),
                    rows[start : start + 5000],
                )
            session.commit()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE vietnamese_medical_terms"))
        return missing
    finally:
        engine.dispose()


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _timed(call: Callable[[str], object], queries: list[str], rounds: int) -> list[float]:
    """Milliseconds per query: the median of `rounds` passes over all the queries, so that a
    moment's contention on a shared machine does not pass for the query's own cost."""
    for query in queries[:20]:  # warm the caches and the connection
        call(query)
    passes: list[list[float]] = []
    for _ in range(rounds):
        timings = []
        for query in queries:
            started = time.perf_counter()
            call(query)
            timings.append((time.perf_counter() - started) * 1000)
        passes.append(timings)
    return [statistics.median(each) for each in zip(*passes, strict=True)]


NAIVE = text(
    "SELECT id, term_en, term_vi FROM vietnamese_medical_terms"
    " WHERE search_vi % :q OR search_en % :q"
    " ORDER BY greatest(similarity(search_vi, :q), similarity(search_en, :q)) DESC LIMIT 10"
)
PLAN_QUERY = "dau khop goi"


def _plan(session: Session, sql: str, params: dict[str, Any]) -> str:
    """The plan's top node and the node that reads the terms, e.g. "Limit / Seq Scan"."""
    plan = [line.strip() for line in session.execute(text("EXPLAIN " + sql), params).scalars()]
    reading = next((line for line in plan if "on vietnamese_medical_terms" in line), plan[0])

    def node(line: str) -> str:
        return line.removeprefix("->  ").split("  (cost")[0].split(" on ")[0]

    return f"{node(plan[0])} / {node(reading)}"


def run(url: str) -> list[dict[str, Any]]:
    """Top the vocabulary at `url` up to 100,000 terms and time both searches; one row each.
    The naive query runs one pass (it takes a few minutes as it is)."""
    from clinic_tui.services import terms
    from clinic_tui.services.access import Actor, Role

    added = populate(url)
    actor = Actor(uuid.uuid4(), "bench@clinic.vn", "Benchmark", Role.RECEPTIONIST)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            total = session.scalar(text("SELECT count(*) FROM vietnamese_medical_terms"))
            pool = _pool(session)
            typed = typed_queries(pool, random.Random(SEED + 1))
            typos = typo_queries(pool, random.Random(SEED + 2))
            staged = _timed(lambda q: terms.search_terms(session, actor, q), typed, ROUNDS)
            fuzzy = _timed(lambda q: terms.search_terms(session, actor, q), typos, ROUNDS)
            naive = _timed(lambda q: session.execute(NAIVE, {"q": terms.fold(q)}).all(), typed, 1)
            probe = _plan(session, terms._PROBE.text, terms._text_params(PLAN_QUERY, 10))
            statement, params = terms.index_stage(PLAN_QUERY)
            session.execute(text("SET LOCAL enable_seqscan = off"))  # as the probe leaves it
            staged_plan = f"probe {probe}; index {_plan(session, statement.text, params)}"
            session.execute(text("RESET enable_seqscan"))
            naive_plan = _plan(session, NAIVE.text, {"q": PLAN_QUERY})
    finally:
        engine.dispose()

    def row(name: str, queries: list[str], timings: list[float], plan: str) -> dict[str, Any]:
        return {
            "search": name,
            "terms": total,
            "generated_now": added,
            "queries": len(queries),
            "p50_ms": _percentile(timings, 0.5),
            "p95_ms": _percentile(timings, 0.95),
            "max_ms": max(timings),
            "plan_top": plan,
        }

    rows = [
        row("search_terms, typed prefixes", typed, staged, staged_plan),
        row("search_terms, one-typo words", typos, fuzzy, "similarity stage, <% on GIN"),
        row("naive % + order by similarity", typed, naive, naive_plan),
    ]
    rows[2]["ratio"] = (
        rows[2]["p50_ms"] / rows[0]["p50_ms"],
        rows[2]["p95_ms"] / rows[0]["p95_ms"],
    )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{rows[0]['terms']:,} terms; target p95 ≤ {TARGET_P95_MS} ms for typed prefixes")
    print(f"{'search':<30} {'n':>4} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'× p50/p95':>10}"
          "  plan: top / reading node")  # fmt: skip
    for row in rows:
        ratio = "{:.0f}× / {:.0f}×".format(*row["ratio"]) if "ratio" in row else ""
        print(
            f"{row['search']:<30} {row['queries']:>4} {row['p50_ms']:>7.2f} {row['p95_ms']:>7.2f}"
            f" {row['max_ms']:>7.2f} {ratio:>10}  {row['plan_top']}"
        )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:
        print_table(run(args[0]))
        return 0
    from clinic_tui.db import migrations
    from clinic_tui.db.embedded import EmbeddedServer

    with tempfile.TemporaryDirectory(prefix="clinic-bench-terms-") as scratch:
        server = EmbeddedServer(Path(scratch), durable=False)
        server.acquire()
        try:
            url = server.sqlalchemy_url()
            migrations.upgrade(url)
            print_table(run(url))
        finally:
            server.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
