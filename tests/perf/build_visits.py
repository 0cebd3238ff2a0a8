"""Benchmark database, part two: schedules, two million appointments, half a million invoices.

Everything is made by the server (``INSERT … SELECT`` over ``generate_series``), from
deterministic hashes of (therapist, day, slot), so the same build gives the same clinic.

The layout, and why it never trips the exclusion constraints: the day has 30-minute slots
07:00–12:00 and 13:00–19:00 (a few therapists work afternoons only). A slot is booked with a
probability that depends on the day (85 % in the past, 75 % in the next two weeks, thinning to
nothing six weeks ahead); an initial evaluation takes an even slot and the next one, which
then stays free. A treatment course is one patient with one therapist at one slot, every
other working day for four weeks: the course (window, weekday parity, therapist, slot) maps
one-to-one onto a patient number, so a patient is never in two places at once. The oldest
candidates are cut so that exactly `benchdb.APPOINTMENTS` remain: about nine years.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Final

import psycopg

from tests.perf import benchdb
from tests.perf.build_people import People

VIETNAM: Final = timezone(timedelta(hours=7))
HISTORY_DAYS: Final = 12 * 366  # candidates reach this far back; the oldest are cut
AHEAD_DAYS: Final = 42  # bookings thin out to nothing six weeks ahead
AVAILABILITY_AHEAD: Final = 365
LONG_SHARE: Final = 0.10  # initial evaluations: an hour
SLOTS: Final = 24  # 30-minute slot numbers from 07:00 (10 and 11 are lunch)
FULL_WEEK: Final = ((1, 2, 3, 4, 5, 6), ((0, 10), (12, 24)))
AFTERNOONS: Final = ((1, 2, 3, 4, 5), ((12, 24),))
REASONS: Final = [
    "Đau thắt lưng", "Đau cổ vai gáy", "Thoái hóa khớp gối", "Viêm quanh khớp vai",
    "Thoát vị đĩa đệm cột sống thắt lưng", "Hội chứng ống cổ tay", "Viêm cân gan chân",
    "Phục hồi sau gãy xương cổ tay", "Phục hồi vận động sau tai biến mạch máu não",
    "Bong gân cổ chân", "Phục hồi sau mổ tái tạo dây chằng chéo trước", "Tập thăng bằng, phòng ngã",
    "Phục hồi sau thay khớp háng", "Chậm phát triển vận động", "Tập thở sau phẫu thuật lồng ngực",
]  # fmt: skip
CANCEL_REASONS: Final = [
    "Bệnh nhân bận việc gia đình", "Bệnh nhân bị sốt", "Đổi lịch sang tuần sau",
    "Mưa lớn, không đến được",
]  # fmt: skip
# Services billed per kind of visit; a follow-up bills one of several sets.
LINES: Final = {
    "INITIAL_EVALUATION": ((("PT105", 1), ("PT003", 1)),),
    "FOLLOW_UP": ((("PT001", 1), ("PT002", 1)), (("PT002", 1), ("PT003", 1)), (("PT001", 1),),
                  (("PT004", 1), ("PT003", 2)), (("PT201", 1),)),
    "RE_EVALUATION": ((("PT106", 1), ("PT001", 1)),),
    "DISCHARGE": ((("PT106", 1),),),
}  # fmt: skip
UNPAID: Final = 200  # the latest invoices wait for payment


def clinic_today() -> date:
    return datetime.now(VIETNAM).date()


def _uuid(tag: str) -> str:
    """SQL for an ordered, deterministic id from ``n``: version 8, ``tag`` names the table."""
    return f"(lpad(to_hex(n), 8, '0') || '-0000-8000-8000-{tag:0>12}')::uuid"


_FUNCTIONS: Final = (
    # A uniform draw in [0, 1) for (therapist, day, slot, salt).
    "CREATE FUNCTION pg_temp.u(doctor int, dn int, k int, salt int) RETURNS float8"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (hashint8extended("
    "(doctor::int8 * 100000 + dn) * 32 + k, salt) & 2147483647)::float8 / 2147483648 $$",
    "CREATE FUNCTION pg_temp.occupancy(ahead int) RETURNS float8 LANGUAGE sql IMMUTABLE"
    " AS $$ SELECT CASE WHEN ahead < 0 THEN 0.85 WHEN ahead <= 14 THEN 0.75"
    f" WHEN ahead <= {AHEAD_DAYS} THEN 0.75 * ({AHEAD_DAYS} - ahead) / {AHEAD_DAYS - 14}.0"
    " ELSE 0 END $$",
)


def _blocks(conn: psycopg.Connection, people: People) -> None:
    conn.execute(
        "CREATE TEMP TABLE bench_blocks (no int, doctor_id uuid, weekday int, k_from int,"
        " k_to int, start_time time, end_time time)"
    )
    rows = []
    for no, doctor in enumerate(people.doctors):
        weekdays, spans = AFTERNOONS if no % 8 == 7 else FULL_WEEK
        for weekday in weekdays:
            for k_from, k_to in spans:
                start = time(7 + k_from // 2, 30 * (k_from % 2))
                end = time(7 + k_to // 2, 30 * (k_to % 2))
                rows.append((no, doctor, weekday, k_from, k_to, start, end))
    with conn.cursor() as cursor:
        cursor.executemany("INSERT INTO bench_blocks VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)


_CANDIDATES: Final = f"""
CREATE TEMP TABLE bench_candidates AS
SELECT b.no, b.doctor_id, d.day, d.dn, s.k,
       (s.k %% 2 = 0 AND pg_temp.u(b.no, d.dn, s.k, 2) < {LONG_SHARE}) AS long
FROM (SELECT g::date AS day, g::date - DATE '2000-01-03' AS dn,
             extract(isodow FROM g)::int AS dow, pg_temp.occupancy(g::date - %(today)s) AS p
      FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') g) d
JOIN bench_blocks b ON b.weekday = d.dow
CROSS JOIN LATERAL generate_series(b.k_from, b.k_to - 1) s(k)
WHERE pg_temp.u(b.no, d.dn, s.k, 1) < d.p
  AND NOT (s.k %% 2 = 1 AND pg_temp.u(b.no, d.dn, s.k - 1, 1) < d.p
           AND pg_temp.u(b.no, d.dn, s.k - 1, 2) < {LONG_SHARE})
"""
# Day number dn counts from a Monday: dn / 7 is the week, dn % 7 the weekday (0 = Monday).
_COURSE: Final = f"(((dn / 7 / 4) * 2 + (dn %% 7) %% 2) * {benchdb.DOCTORS} + no) * {SLOTS} + k"
_COLUMNS: Final = (
    "id, patient_id, doctor_id, appointment_date, start_time, end_time, status,"
    " appointment_type, reason, is_referred, cancel_reason, checked_in_at, completed_at,"
    " cancelled_at, created_by, created_at, updated_at"
)
# Laid out once, in an unlogged table dropped at the end; two connections then insert it.
_LAYOUT: Final = f"""
CREATE UNLOGGED TABLE bench_appointments AS
SELECT no, id, patient_id, doctor_id, day AS appointment_date, start_time, end_time, status,
       kind AS appointment_type, reason, referred AS is_referred,
       CASE WHEN status = 'CANCELLED' THEN cancel_reason END AS cancel_reason,
       CASE WHEN status = 'COMPLETED' THEN starts - interval '5 minutes' END AS checked_in_at,
       CASE WHEN status = 'COMPLETED' THEN ends END AS completed_at,
       CASE WHEN status = 'CANCELLED' THEN starts - interval '1 day' END AS cancelled_at,
       %(creator)s::uuid AS created_by, booked AS created_at,
       CASE status WHEN 'COMPLETED' THEN ends WHEN 'CANCELLED' THEN starts - interval '1 day'
                   ELSE booked END AS updated_at
FROM (SELECT {_uuid("a")} AS id, x.*,
             (x.day + x.start_time) AT TIME ZONE 'Asia/Ho_Chi_Minh' AS starts,
             (x.day + x.end_time) AT TIME ZONE 'Asia/Ho_Chi_Minh' AS ends,
             least((x.day + x.start_time) AT TIME ZONE 'Asia/Ho_Chi_Minh'
                       - (1 + floor(r3 * 20)) * interval '1 day',
                   now() - floor(r3 * 30) * interval '1 day') AS booked
      FROM (SELECT %(total)s + 1 - back AS n, c.no, p.id AS patient_id, c.doctor_id, c.day,
                   time '07:00' + c.k * interval '30 minutes' AS start_time,
                   time '07:00' + (c.k + CASE WHEN c.long THEN 2 ELSE 1 END)
                       * interval '30 minutes' AS end_time,
                   CASE WHEN c.day < %(today)s THEN
                            CASE WHEN r4 < 0.82 THEN 'COMPLETED' WHEN r4 < 0.88 THEN 'NO_SHOW'
                                 ELSE 'CANCELLED' END
                        WHEN r4 < 0.95 THEN 'SCHEDULED' ELSE 'CANCELLED' END AS status,
                   CASE WHEN c.long THEN 'INITIAL_EVALUATION' WHEN r5 < 0.09 THEN 'RE_EVALUATION'
                        WHEN r5 < 0.14 THEN 'DISCHARGE' ELSE 'FOLLOW_UP' END AS kind,
                   (%(reasons)s::text[])[1 + floor(r5 * 1000)::int
                       %% cardinality(%(reasons)s::text[])] AS reason,
                   (%(cancel_reasons)s::text[])[1 + floor(r4 * 1000)::int
                       %% cardinality(%(cancel_reasons)s::text[])] AS cancel_reason,
                   r3 < 0.2 AS referred, r3
            FROM (SELECT c.*, row_number() OVER (ORDER BY day DESC, k DESC, no DESC) AS back,
                         pg_temp.u(no, dn, k, 3) AS r3, pg_temp.u(no, dn, k, 4) AS r4,
                         pg_temp.u(no, dn, k, 5) AS r5
                  FROM bench_candidates c) c
            JOIN bench_patients p ON p.n = ({_COURSE})::int8 * 7919 %% %(patients)s + 1
            WHERE c.back <= %(total)s) x) a
"""


def appointments(conn: psycopg.Connection, people: People, today: date, total: int) -> int:
    """Weekly templates, ``total`` appointments, and availability from the first of them to a
    year ahead; returns the appointments made."""
    for statement in _FUNCTIONS:
        conn.execute(statement)
    _blocks(conn, people)
    conn.execute(
        "CREATE TEMP TABLE bench_patients AS SELECT substr(patient_code, 9)::int AS n, id"
        " FROM patients WHERE patient_code LIKE 'BN-DEMO-%'"
    )
    conn.execute("ALTER TABLE bench_patients ADD PRIMARY KEY (n)")
    patients = conn.execute("SELECT count(*) FROM bench_patients").fetchone()[0]  # type: ignore[index]
    if patients <= 0:
        raise RuntimeError("no demo patients to book")
    first = today - timedelta(days=HISTORY_DAYS)
    last = today + timedelta(days=AHEAD_DAYS)
    conn.execute(_CANDIDATES, {"today": today, "first": first, "last": last})
    conn.execute(
        _LAYOUT,
        {"today": today, "total": total, "patients": patients, "reasons": REASONS,
         "cancel_reasons": CANCEL_REASONS, "creator": people.users[benchdb.RECEPTION]},
    )  # fmt: skip
    conn.execute("DROP TABLE bench_candidates")
    conn.commit()
    made = _insert_in_parallel(conn.info.dsn)
    conn.execute("DROP TABLE bench_appointments")
    if made != total:
        raise RuntimeError(f"laid out {made:,} appointments, not {total:,}: widen HISTORY_DAYS")
    start = conn.execute("SELECT min(appointment_date) FROM appointments").fetchone()[0]  # type: ignore[index]
    conn.execute(
        "INSERT INTO weekly_schedule_templates (doctor_id, weekday, start_time, end_time,"
        " slot_minutes, valid_from) SELECT doctor_id, weekday, start_time, end_time, 30, %s"
        " FROM bench_blocks",
        (start,),
    )
    conn.execute(
        "INSERT INTO doctor_availabilities (doctor_id, date, start_time, end_time,"
        " is_available, source) SELECT b.doctor_id, g::date, b.start_time, b.end_time, true,"
        " 'TEMPLATE' FROM generate_series(%s::date, %s::date, interval '1 day') g"
        " JOIN bench_blocks b ON b.weekday = extract(isodow FROM g)",
        (start, today + timedelta(days=AVAILABILITY_AHEAD)),
    )
    conn.commit()
    return made


def _insert_in_parallel(dsn: str, workers: int = 2) -> int:
    """The laid-out appointments, each connection a share of the therapists, in date order.
    The exclusion constraints check every row as it goes in, which is most of the build's
    time; the shares never overlap (a course is one therapist's), so nobody waits on the
    other's uncommitted rows."""
    from concurrent.futures import ThreadPoolExecutor

    def insert(share: int) -> int:
        with psycopg.connect(dsn) as conn:
            conn.execute("SET synchronous_commit = off")
            return conn.execute(
                f"INSERT INTO appointments ({_COLUMNS}) SELECT {_COLUMNS} FROM bench_appointments"
                " WHERE no %% %s = %s ORDER BY appointment_date, start_time",
                (workers, share),
            ).rowcount

    with ThreadPoolExecutor(workers) as pool:
        return sum(pool.map(insert, range(workers)))


_INVOICE_SOURCE: Final = """
CREATE TEMP TABLE bench_invoices AS
SELECT row_number() OVER (ORDER BY a.appointment_date, a.start_time, a.id) AS n,
       a.id AS appointment_id, a.patient_id, a.doctor_id, a.appointment_date AS day,
       (a.appointment_date + a.end_time) AT TIME ZONE 'Asia/Ho_Chi_Minh'
           + interval '10 minutes' AS issued_at,
       a.appointment_type AS kind, a.is_referred, c.bhyt_card_number AS card,
       c.bhyt_coverage_percent AS coverage,
       coalesce(c.valid_from <= a.appointment_date AND a.appointment_date <= c.valid_to, false)
           AS valid
FROM (SELECT * FROM appointments WHERE status = 'COMPLETED'
      ORDER BY appointment_date DESC, start_time DESC, id DESC LIMIT %(count)s) a
LEFT JOIN (SELECT DISTINCT ON (patient_id) patient_id, bhyt_card_number, bhyt_coverage_percent,
                  valid_from, valid_to
           FROM insurance_info WHERE provider_type = 'BHYT'
           ORDER BY patient_id, is_primary DESC, created_at DESC) c USING (patient_id)
"""
_LINES: Final = """
CREATE TEMP TABLE bench_lines AS
SELECT i.n, p.position, s.id AS service_id, s.name_vi, p.quantity, s.unit_price, s.bhyt_price,
       s.unit_price * p.quantity AS line_total,
       CASE WHEN i.valid AND s.bhyt_covered
            THEN least(s.unit_price, coalesce(s.bhyt_price, s.unit_price)) * p.quantity
            ELSE 0 END AS insured
FROM bench_invoices i
JOIN bench_line_plan p ON p.kind = i.kind
     AND p.variant = floor(pg_temp.u(0, i.n::int, 0, 6) * p.variants)::int
JOIN pt_service_codes s ON s.code = p.code
"""
# The split as DESIGN §5.2 has it for these visits: the card level's rate, 100 % under 15 %
# of the base salary; every price is a multiple of 10,000 dong, so no rounding is needed.
_SPLIT: Final = f"""
CREATE TEMP TABLE bench_split AS
WITH sums AS (SELECT n, sum(line_total) AS total, sum(insured) AS insured
              FROM bench_lines GROUP BY n),
rated AS (
    SELECT i.*, s.total, s.insured,
           CASE WHEN NOT i.valid THEN 0 WHEN s.insured < salary.value * 0.15 THEN 100
                ELSE i.coverage END AS rate,
           CASE WHEN i.card IS NULL THEN 'no_card'
                WHEN NOT i.valid THEN 'card_not_valid_on_date'
                WHEN s.insured < salary.value * 0.15 THEN 'below_threshold'
                ELSE 'level' END AS rule
    FROM bench_invoices i JOIN sums s USING (n)
    LEFT JOIN LATERAL (SELECT value FROM dated_settings WHERE key = 'base_salary'
                       AND effective_from <= i.day ORDER BY effective_from DESC LIMIT 1) salary
           ON true),
covered AS (SELECT l.n, sum(floor(l.insured * r.rate / 100)) AS insurance
            FROM bench_lines l JOIN rated r USING (n) GROUP BY l.n)
SELECT r.*, c.insurance, r.total - c.insurance AS patient, {_uuid("b")} AS id,
       'INV-' || extract(year FROM r.day) || '-'
           || lpad(row_number() OVER (PARTITION BY extract(year FROM r.day) ORDER BY n)::text,
                   6, '0') AS number,
       CASE WHEN r.total = c.insurance THEN 'PAID' WHEN n > %(count)s - {UNPAID} THEN 'ISSUED'
            WHEN pg_temp.u(0, n::int, 0, 7) < 0.2 AND r.total - c.insurance >= 2000
                THEN 'PARTIALLY_PAID'
            ELSE 'PAID' END AS status
FROM rated r JOIN covered c USING (n)
"""
_INSERT_INVOICES: Final = """
INSERT INTO invoices (id, invoice_number, patient_id, appointment_id, doctor_id, service_date,
    status, is_referred, bhyt_card_number, coverage_percent, coverage_rule, total_amount,
    insurance_amount, patient_amount, issued_at, issued_by, created_at, updated_at)
SELECT id, number, patient_id, appointment_id, doctor_id, day, status, is_referred, card, rate,
       rule, total, insurance, patient, issued_at, %(cashier)s, issued_at, issued_at
FROM bench_split ORDER BY n
"""
_INSERT_LINES: Final = f"""
INSERT INTO invoice_line_items (id, invoice_id, service_code_id, position, description,
    quantity, unit_price, bhyt_price, line_total, insured_base, insurance_amount,
    patient_amount, created_at)
SELECT {_uuid("c")}, invoice_id, service_id, position, name_vi, quantity, unit_price, bhyt_price,
       line_total, insured, insurance, line_total - insurance, issued_at
FROM (SELECT l.n * 4 + l.position AS n, s.id AS invoice_id, l.service_id, l.position,
             l.name_vi, l.quantity, l.unit_price, l.bhyt_price, l.line_total, l.insured,
             floor(l.insured * s.rate / 100) AS insurance, s.issued_at
      FROM bench_lines l JOIN bench_split s USING (n)) x
ORDER BY n
"""
_INSERT_PAYMENTS: Final = f"""
INSERT INTO payments (id, invoice_id, appointment_id, patient_id, amount, method, status,
    order_id, transaction_id, receipt_number, cash_tendered, change_given, received_by,
    paid_at, created_at, updated_at)
SELECT {_uuid("d")}, id, appointment_id, patient_id, amount, method, 'COMPLETED',
       CASE WHEN method = 'momo' THEN 'BENCH-MOMO-' || n END,
       CASE WHEN method <> 'cash' THEN 'BENCH-' || upper(method) || '-' || n END,
       'RC-' || extract(year FROM paid_at AT TIME ZONE 'Asia/Ho_Chi_Minh') || '-'
           || lpad(n::text, 7, '0'),
       CASE WHEN method = 'cash' THEN ceil(amount / 50000) * 50000 END,
       CASE WHEN method = 'cash' THEN ceil(amount / 50000) * 50000 - amount END,
       %(cashier)s, paid_at, paid_at, paid_at
FROM (SELECT row_number() OVER (ORDER BY paid_at, invoice_n) AS n, *
      FROM (SELECT s.n AS invoice_n, s.id, s.appointment_id, s.patient_id,
                   CASE WHEN s.status = 'PAID' THEN s.patient
                        ELSE floor(s.patient / 2000) * 1000 END AS amount,
                   CASE WHEN m < 0.5 THEN 'cash' WHEN m < 0.75 THEN 'momo'
                        WHEN m < 0.95 THEN 'card' ELSE 'bank_transfer' END AS method,
                   s.issued_at + (1 + floor(m * 1000)::int %% 5) * interval '1 minute' AS paid_at
            FROM (SELECT *, pg_temp.u(0, n::int, 0, 8) AS m FROM bench_split) s
            WHERE s.status IN ('PAID', 'PARTIALLY_PAID') AND s.patient > 0) p) q
"""


def invoices(conn: psycopg.Connection, people: People, count: int) -> tuple[int, int, int]:
    """Invoices for the latest ``count`` completed visits, their lines and the payments that
    settled them (the latest `UNPAID` wait); returns (invoices, lines, payments)."""
    conn.execute(
        "CREATE TEMP TABLE bench_line_plan (kind text, variant int, variants int,"
        " position int, code text, quantity int)"
    )
    plan = [
        (kind, variant, len(sets), position, code, quantity)
        for kind, sets in LINES.items()
        for variant, lines in enumerate(sets)
        for position, (code, quantity) in enumerate(lines, 1)
    ]
    with conn.cursor() as cursor:
        cursor.executemany("INSERT INTO bench_line_plan VALUES (%s, %s, %s, %s, %s, %s)", plan)
    conn.execute(_INVOICE_SOURCE, {"count": count})
    conn.execute(_LINES)
    conn.execute("CREATE INDEX ON bench_lines (n)")
    conn.execute("ANALYZE bench_invoices, bench_lines")
    conn.execute(_SPLIT, {"count": count})
    cashier = people.users[benchdb.RECEPTION]
    made = conn.execute(_INSERT_INVOICES, {"cashier": cashier}).rowcount
    lines = conn.execute(_INSERT_LINES).rowcount
    paid = conn.execute(_INSERT_PAYMENTS, {"cashier": cashier}).rowcount
    if paid:
        conn.execute("SELECT setval('receipt_number_seq', %s)", (paid,))
    conn.execute(
        "INSERT INTO invoice_counters (year, last_number) SELECT extract(year FROM day)::int,"
        " count(*) FROM bench_split GROUP BY 1 ON CONFLICT (year) DO UPDATE"
        " SET last_number = greatest(invoice_counters.last_number, excluded.last_number)"
    )
    for table in ("bench_split", "bench_lines", "bench_invoices", "bench_line_plan"):
        conn.execute(f"DROP TABLE {table}")
    conn.commit()
    if made != count:
        raise RuntimeError(f"made {made:,} invoices, not {count:,}")
    return made, lines, paid
