"""Generated medical terms for the benchmark database: 100,000 bilingual terms.

Combinations of about 40 conditions, 90 body parts, sides, courses, severities and contexts in
both languages, with ICD-like codes. Common words (pain / đau, left / trái, chronic / mạn tính)
are as frequent as in a real vocabulary, so a short prefix matches thousands of rows, which is
what makes autocomplete slow if it is done naively.
"""

from __future__ import annotations

import random
from typing import Any

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
