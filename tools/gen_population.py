#!/usr/bin/env python3
"""Synthetic population generator for tunnus tests and benchmarks.

Writes one CSV feed per source system, in the canonical feed format:

  hr.csv         staff              source keys E…
  sis.csv        students           source keys S…
  pupils.csv     pupils             source keys P…
  officials.csv  elected officials  source keys L…
  sponsored.csv  partners and visitors (only with --sponsored > 0), keys V…

Every file is UTF-8 with a header row and these columns, in this order
(an empty cell means "no value"):

  source_key, national_id, given_names, family_name, preferred_name,
  email, phone, org_unit, title, manager_key, school, class,
  teaching_groups, programme, valid_from, valid_to, end_reason

Dates are ISO 8601 (YYYY-MM-DD); valid_to is the inclusive last day or empty
for an open-ended relationship; teaching_groups are separated by ';'. In
sponsored.csv, manager_key is the sponsoring staff member's key and org_unit
and title name the partner company or the visitor's home organisation.

All national IDs are synthetic, valid Finnish HETUs (checksum, real dates,
every century sign including those introduced in 2023, temporary individual
numbers 900-999), unique per person.

Edge cases, each guaranteed at least once when --persons is large enough
(about 40) and otherwise present at realistic rates:
  - one person in two relationships (staff and student; official and staff):
    the same national ID in two files;
  - namesakes (same names, different IDs), some even with the same birth date;
  - two different people whose IDs differ only in the century sign;
  - rehires: two staff rows for one person with a gap, some with a new
    family name;
  - deaths (end_reason=death), ending every relationship of that person;
  - Finnish and Swedish letters, names such as Zoë, Amélie, José;
    hyphenated, two-part and apostrophe family names (Ylä-Outinen,
    von Wright, O'Connor);
  - people born in the 1800s (historical officials, century sign '+');
  - managers that appear earlier in hr.csv and, for a small share, later;
    the manager graph never has a cycle;
  - ended, open, future-ending and future-starting relationships, one-day
    relationships and relationships ending on the --as-of date;
  - with --sponsored: visitors without a national ID.
With --invalid-rate R, about R broken rows per valid row are added next to
the valid ones: bad checksum, missing key, impossible date (2025-02-30 …),
end before start, duplicate key.

--summary prints one JSON line to stderr with row counts per file and counts
of every edge case, for tests. Stdlib only; deterministic for a given --seed
(and Python 3 version); rows are streamed, so memory stays small.

Example: gen_population.py --persons 100000 --seed 7 --out /tmp/pop --summary
"""
import argparse
import csv
import datetime as dt
import json
import os
import random
import sys
import unicodedata

COLUMNS = ("source_key", "national_id", "given_names", "family_name",
           "preferred_name", "email", "phone", "org_unit", "title",
           "manager_key", "school", "class", "teaching_groups", "programme",
           "valid_from", "valid_to", "end_reason")
(KEY, NID, GIVEN, FAMILY, PREFERRED, EMAIL, PHONE, UNIT, TITLE, MANAGER,
 SCHOOL, CLASS, GROUPS, PROGRAMME, VALID_FROM, VALID_TO, END_REASON) = range(len(COLUMNS))

SOURCES = ("hr", "sis", "pupils", "officials")
KEY_PREFIX = {"hr": "E", "sis": "S", "pupils": "P", "officials": "L", "sponsored": "V"}
KEY_START = {"hr": 100000, "sis": 2000000, "pupils": 5000000, "officials": 900,
             "sponsored": 700000}
# Share of the population whose main relationship is in each source.
SHARE = (("hr", 0.25), ("sis", 0.45), ("pupils", 0.27), ("officials", 0.03))
AGES = {"hr": (22, 66), "sis": (19, 45), "pupils": (7, 19), "officials": (25, 80),
        "sponsored": (24, 70)}

# Names. Every entry passes tunnus' name rule (Latin letters incl. Latin-1
# and Latin Extended-A, single spaces, hyphens, apostrophes).
GIVEN_F = ("Aino", "Aili", "Anja", "Anneli", "Eeva", "Elina", "Ella", "Elsa",
           "Emilia", "Helmi", "Hilkka", "Iida", "Ilona", "Inkeri", "Jenni",
           "Kaarina", "Katariina", "Kerttu", "Kristiina", "Laura", "Liisa",
           "Lotta", "Maija", "Marjatta", "Minna", "Nelli", "Noora", "Päivi",
           "Pirjo", "Riitta", "Saara", "Satu", "Siiri", "Sofia", "Tuulikki",
           "Venla", "Åsa", "Märta", "Ebba", "Mirjami", "Pihla")
GIVEN_M = ("Aapo", "Aarne", "Antero", "Eero", "Eino", "Elias", "Erkki", "Hannu",
           "Heikki", "Ilmari", "Jaakko", "Johannes", "Juhani", "Kalevi", "Kari",
           "Lauri", "Matias", "Mikael", "Niko", "Olavi", "Onni", "Pekka",
           "Rasmus", "Sakari", "Tapio", "Timo", "Toivo", "Tuomas", "Väinö",
           "Valtteri", "Ville", "Åke", "Göran", "Björn", "Mårten", "Yrjö")
# Rarer names, mixed in for a few percent of people.
RARE_F = ("Zoë", "Amélie", "Chloé", "Linnéa", "Fatima", "Ayşe", "Siobhán")
RARE_M = ("José", "René", "André", "Jürgen", "Ahmed", "Mohamed", "François")
ACCENTED_GIVEN = frozenset(n for n in RARE_F + RARE_M if not n.isascii())
NORDIC_LETTERS = frozenset("äöåÄÖÅ")
FAMILY_NAMES = ("Aaltonen", "Anttila", "Eskola", "Hakala", "Halonen", "Hiltunen",
          "Honkanen", "Hyvönen", "Jääskeläinen", "Kallio", "Kauppinen",
          "Keränen", "Kettunen", "Koivisto", "Kokkonen", "Kontio", "Lahti",
          "Lappalainen", "Leinonen", "Luoma", "Manninen", "Miettinen",
          "Mustonen", "Nurmi", "Ojala", "Peltonen", "Pesonen", "Rautio",
          "Räsänen", "Seppälä", "Sirola", "Tikkanen", "Toivonen", "Väisänen",
          "Vesterinen", "Östman", "Åkerlund", "Sjöberg", "Lindqvist",
          "Söderholm", "Grönroos", "Ylä-Outinen", "Ala-Korpela")
PLAIN_FAMILY = tuple(n for n in FAMILY_NAMES if n.isalpha())
# Rarer family names: foreign letters, two-part names with a lower-case
# particle, an apostrophe, an Arabic hyphenated name.
RARE_FAMILY = ("Nguyen", "Müller", "Đukić", "Al-Hashimi", "von Wright", "af Forselles",
               "de la Chapelle", "O'Connor")

UNITS = ("Konsernipalvelut/Digipalvelut", "Konsernipalvelut/Talous",
         "Konsernipalvelut/Henkilöstö", "Sivistys/Perusopetus", "Sivistys/Lukio",
         "Sivistys/Varhaiskasvatus", "Tekninen/Kiinteistöt", "Tekninen/Kaavoitus",
         "Hyvinvointi/Kirjasto", "Hyvinvointi/Liikunta", "Tietohallinto",
         "Yliopisto/Luonnontieteiden tiedekunta", "Yliopisto/Kasvatustieteiden tiedekunta",
         "Yliopisto/Humanistinen tiedekunta", "Yliopisto/Lääketieteellinen tiedekunta")
FACULTIES = UNITS[11:]
TITLES = ("suunnittelija", "asiantuntija", "opettaja", "lehtori", "yliopistonlehtori",
          "tutkija", "sihteeri", "kiinteistönhoitaja", "tietohallintojohtaja",
          "kirjastovirkailija", "projektipäällikkö", "väitöskirjatutkija",
          "palkanlaskija", "erityisluokanopettaja", "rehtori")
PROGRAMMES = ("Tietotekniikan maisteriohjelma", "Kasvatustieteen kandidaattiohjelma",
              "Historian maisteriohjelma", "Matematiikan kandidaattiohjelma",
              "Lääketieteen lisensiaattiohjelma", "Biologian tohtoriohjelma",
              "Svenska språket och litteraturen")
SCHOOLS = ("03021 Keskuskoulu", "03022 Ylikylän koulu", "03023 Strandbacka skola",
           "03024 Mäntymäen yhtenäiskoulu", "03025 Kaupungin lukio")
BODIES = ("Kaupunginvaltuusto", "Kaupunginhallitus", "Sivistyslautakunta",
          "Ympäristölautakunta", "Tarkastuslautakunta", "Nuorisovaltuusto")
OFFICIAL_TITLES = ("luottamushenkilö", "varajäsen", "puheenjohtaja")
PARTNERS = ("Esimerkki Oy", "Kumppani Ab", "Rakennus Mäkelä Oy", "Siivouspalvelu Öhman Ky",
            "Tietojärjestelmät Oyj")
PARTNER_TITLES = ("konsultti", "yhteistyökumppani", "urakoitsija")
HOME_ORGS = ("Uppsala universitet", "Tartu Ülikool", "Université de Lille",
             "Universidad de Sevilla", "Det Kongelige Bibliotek")
VISITOR_TITLES = ("vierailija", "vieraileva tutkija", "vaihto-opettaja")
END_REASONS = {"hr": ("contract_end", "resigned", "retired"),
               "sis": ("graduated", "study_right_expired", "resigned"),
               "pupils": ("moved_away", "graduated"),
               "officials": ("term_end", "resigned"),
               "sponsored": ("contract_end", "visit_end")}

CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
# Century signs: the first of each list is the traditional one; the others
# were added in 2023 for new IDs once individual numbers run short.
CENTURY_SIGNS = {18: ("+",), 19: ("-", "Y", "X", "W", "V", "U"),
                 20: ("A", "B", "C", "D", "E", "F")}
IMPOSSIBLE_DATES = ("2025-02-30", "2023-02-29", "2024-04-31", "2025-06-31", "2100-02-29")
# What a bad-checksum row breaks when its original has no national ID.
NO_NID_BASE = "010101A123" + CHECK_CHARS[10101123 % 31]
BROKEN_KINDS = ("bad_checksum", "missing_key", "impossible_date", "end_before_start",
                "duplicate_key")

# Edge cases placed deliberately (once each, at random positions) so that
# even a small population has every one of them.
FORCED = ("dual_staff_student", "dual_official_staff", "namesake", "namesake_same_birth",
          "sign_twins", "rehire", "rehire_name_change", "death", "death_multi_relationship",
          "temporary_id", "historical_1800s", "hyphenated_family", "two_part_family",
          "apostrophe_family", "accented_given", "manager_forward", "ended", "open",
          "future_end", "future_start", "one_day", "ends_on_as_of") + tuple(
              "century_sign_" + s for c in (19, 20) for s in CENTURY_SIGNS[c])
FORCED_SPONSORED = ("sponsored_partner", "sponsored_visitor", "no_national_id")
FORCED_SOURCE = {"dual_staff_student": "hr", "rehire": "hr", "rehire_name_change": "hr",
                 "death_multi_relationship": "hr", "manager_forward": "hr",
                 "dual_official_staff": "officials", "sign_twins": "hr",
                 "namesake_same_birth": "officials",
                 "sponsored_partner": "sponsored", "sponsored_visitor": "sponsored",
                 "no_national_id": "sponsored"}
PERIOD_FORCES = frozenset(("future_start", "open", "future_end", "one_day", "ends_on_as_of",
                           "ended", "death", "death_multi_relationship", "rehire",
                           "rehire_name_change"))
# Bounded pools: enough variety without holding the whole population.
POOL_MAX = 4096


class Person:
    __slots__ = ("given", "family", "preferred", "female", "birth", "nid", "phone")


def adult(p):
    """The day p turns 18, give or take a leap day: no relationship starts
    earlier."""
    return p.birth + 18 * 365 + 5


class Feed:
    """One output file. Valid rows are written as they come; with an invalid
    rate, a broken copy of a recent row sometimes follows."""

    def __init__(self, gen, name, path):
        self.gen = gen
        self.name = name
        self.file = open(path, "w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.file)
        self.writer.writerow(COLUMNS)
        self.rows = 0
        self.valid = 0
        self.recent = []

    def write(self, row):
        self.writer.writerow(row)
        self.rows += 1
        self.valid += 1
        gen = self.gen
        if gen.invalid_rate <= 0:
            return
        # Keep a sample of recent rows so that broken copies (duplicates
        # above all) do not always sit right next to their original.
        if len(self.recent) < 256:
            self.recent.append(row)
        else:
            self.recent[int(gen.rnd() * 256)] = row
        if gen.rnd() < gen.invalid_rate:
            source = self.recent[int(gen.rnd() * len(self.recent))]
            self.writer.writerow(gen.broken_copy(self.name, source))
            self.rows += 1

    def close(self):
        self.file.close()


class Generator:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.rnd = self.rng.random
        self.persons = args.persons
        self.invalid_rate = args.invalid_rate
        self.sponsored_share = args.sponsored
        self.as_of = dt.date.fromisoformat(args.as_of).toordinal()
        self.past = self.as_of - 12 * 365
        self.future = self.as_of + 3 * 365
        self.out = args.out
        self.counter = dict(KEY_START)
        self.used_ids = set()     # birth ordinal * 1000 + individual number
        self.name_pool = []       # (given, family, female, birth) of earlier people
        self.manager_pool = []    # staff keys that manage others
        self.top_pool = []        # staff keys without a manager of their own
        self.staff_pool = []      # any staff key (sponsors)
        self.forward_targets = set()  # hr key numbers promised as managers
        self.forward_max = 0
        self.forward_allowed = True
        self.broken_queue = list(BROKEN_KINDS)
        self.rng.shuffle(self.broken_queue)
        self.stats = {k: 0 for k in FORCED + FORCED_SPONSORED if not k.startswith("century_sign_")}
        self.stats.update(manager_backward=0, manager_none=0, filler_staff=0,
                          finnish_swedish_letters=0)
        self.signs = {s: 0 for c in CENTURY_SIGNS.values() for s in c}
        self.broken = {k: 0 for k in BROKEN_KINDS}
        self.persons_written = 0
        self._iso = {}
        self._ddmmyy = {}
        self._fold = {}

    # ---- small helpers --------------------------------------------------

    def pick(self, seq):
        return seq[int(self.rnd() * len(seq))]

    def between(self, lo, hi):
        """Uniform integer in [lo, hi]."""
        return lo + int(self.rnd() * (hi - lo + 1))

    def iso(self, ordinal):
        s = self._iso.get(ordinal)
        if s is None:
            s = self._iso[ordinal] = dt.date.fromordinal(ordinal).isoformat()
        return s

    def fold(self, name):
        """A name as ASCII for an email address: Ylä-Outinen -> ylaoutinen,
        Zoë -> zoe, von Wright -> vonwright."""
        s = self._fold.get(name)
        if s is None:
            d = unicodedata.normalize("NFKD", name.replace("Đ", "D").replace("đ", "d"))
            s = "".join(c for c in d if c.isascii() and c.isalnum()).lower()
            self._fold[name] = s
        return s

    def pool_add(self, pool, item):
        if len(pool) < POOL_MAX:
            pool.append(item)
        else:
            pool[int(self.rnd() * POOL_MAX)] = item

    def next_key(self, source):
        self.counter[source] += 1
        n = self.counter[source]
        return KEY_PREFIX[source] + str(n), n

    # ---- national IDs ---------------------------------------------------

    def nid_for(self, birth, female, temporary, sign=None, individual=None):
        """A unique valid HETU for someone born on ordinal day birth."""
        if individual is None:
            for _ in range(1000):
                if temporary:
                    n = 900 + 2 * int(self.rnd() * 50)
                else:
                    n = 2 + 2 * int(self.rnd() * 449)
                if not female:
                    n += 1
                if birth * 1000 + n not in self.used_ids:
                    break
            else:
                raise SystemExit("gen_population: too many people born on one day")
            self.used_ids.add(birth * 1000 + n)
        else:
            n = individual
        parts = self._ddmmyy.get(birth)
        if parts is None:
            d = dt.date.fromordinal(birth)
            parts = self._ddmmyy[birth] = (f"{d.day:02d}{d.month:02d}{d.year % 100:02d}",
                                           d.year // 100)
        ddmmyy, century = parts
        if sign is None:
            signs = CENTURY_SIGNS[century]
            sign = signs[0] if len(signs) == 1 or self.rnd() < 0.9 else self.pick(signs[1:])
        self.signs[sign] += 1
        return f"{ddmmyy}{sign}{n:03d}{CHECK_CHARS[int(ddmmyy + f'{n:03d}') % 31]}"

    # ---- people -----------------------------------------------------------

    def birth_window(self, source):
        lo_age, hi_age = AGES[source]
        return self.as_of - int(hi_age * 365.25), self.as_of - int(lo_age * 365.25)

    def birth_in(self, source, century=None):
        lo, hi = self.birth_window(source)
        if century is not None:
            lo = max(lo, dt.date(century * 100, 1, 1).toordinal())
            hi = min(hi, dt.date(century * 100 + 99, 12, 31).toordinal())
            if lo > hi:
                return None
        return self.between(lo, hi)

    def family_name(self, force):
        if force == "hyphenated_family":
            if self.rnd() < 0.5:
                return self.pick(("Ylä-Outinen", "Ala-Korpela"))
            first = self.pick(PLAIN_FAMILY)
            return f"{first}-{self.pick([n for n in PLAIN_FAMILY if n != first])}"
        if force == "two_part_family":
            return self.pick(("von Wright", "af Forselles", "de la Chapelle"))
        if force == "apostrophe_family":
            return "O'Connor"
        r = self.rnd()
        if r < 0.04:
            return self.pick(RARE_FAMILY)
        name = self.pick(FAMILY_NAMES)
        if r > 0.96 and "-" not in name:
            other = self.pick(PLAIN_FAMILY)
            if other != name:
                name = f"{name}-{other}"
        return name

    def given_names(self, female, force):
        pool = GIVEN_F if female else GIVEN_M
        r = self.rnd()
        k = 2 if r < 0.7 else 1 if r < 0.94 else 3
        # k distinct names; cheaper than random.sample for such small k.
        names = [self.pick(pool)]
        while len(names) < k:
            n = self.pick(pool)
            if n not in names:
                names.append(n)
        if force == "accented_given":
            names[0] = self.pick(("Zoë", "Amélie", "Chloé") if female else ("José", "René"))
        elif self.rnd() < 0.03:
            names[0] = self.pick(RARE_F if female else RARE_M)
        return " ".join(names)

    def new_person(self, source, force=None, century=None, birth=None, female=None,
                   with_nid=True):
        p = Person()
        rnd = self.rnd
        namesake = None
        if (female is None and self.name_pool
                and (force in ("namesake", "namesake_same_birth")
                     or (force is None and rnd() < 0.01))):
            namesake = self.pick(self.name_pool)
            if force == "namesake_same_birth":
                # Someone old enough for this source, so the shared birth
                # date keeps the rows plausible.
                lo, hi = self.birth_window(source)
                for _ in range(100):
                    if lo <= namesake[3] <= hi:
                        break
                    namesake = self.pick(self.name_pool)
        if namesake:
            p.given, p.family, p.female = namesake[0], namesake[1], namesake[2]
        else:
            p.female = rnd() < 0.5 if female is None else female
            p.given = self.given_names(p.female, force)
            p.family = self.family_name(force)
        names = p.given.split(" ")
        r = rnd()
        p.preferred = names[0] if r < 0.7 else self.pick(names) if r < 0.95 else ""
        if birth is None and namesake and force == "namesake_same_birth":
            lo, hi = self.birth_window(source)
            if lo <= namesake[3] <= hi:
                birth = namesake[3]
        if birth is None and century is not None:
            birth = self.birth_in(source, century)
        if birth is None:
            birth = self.birth_in(source)
        p.birth = birth
        temporary = with_nid and (force == "temporary_id" or rnd() < 0.01)
        sign = None
        if force and force.startswith("century_sign_"):
            # Only when the age window reached that century (odd --as-of).
            if force[-1] in CENTURY_SIGNS[dt.date.fromordinal(birth).year // 100]:
                sign = force[-1]
        p.nid = self.nid_for(birth, p.female, temporary, sign) if with_nid else ""
        p.phone = f"+358 {self.pick(('40', '44', '45', '50'))} {self.between(1000000, 9999999)}"
        self.pool_add(self.name_pool, (p.given, p.family, p.female, birth))
        self.classify(p, namesake, force, temporary)
        self.persons_written += 1
        return p

    def classify(self, p, namesake, force, temporary):
        st = self.stats
        if namesake:
            st["namesake"] += 1
            if p.birth == namesake[3]:
                st["namesake_same_birth"] += 1
        if temporary:
            st["temporary_id"] += 1
        fam = p.family
        if "-" in fam:
            st["hyphenated_family"] += 1
        if " " in fam:
            st["two_part_family"] += 1
        if "'" in fam:
            st["apostrophe_family"] += 1
        if not ACCENTED_GIVEN.isdisjoint(p.given.split(" ")):
            st["accented_given"] += 1
        if not NORDIC_LETTERS.isdisjoint(p.given + fam):
            st["finnish_swedish_letters"] += 1

    # ---- relationships ----------------------------------------------------

    def period(self, ended_p, force=None, lo=None):
        """(valid_from, valid_to or None) as ordinals; valid_from is not
        before lo (the person is old enough) nor before the feed's history."""
        rnd = self.rnd
        a = self.as_of
        lo = self.past if lo is None else min(max(lo, self.past), a - 1)
        if force in PERIOD_FORCES:
            return self.forced_period(force, lo)
        if rnd() < 0.02:
            start = a + self.between(1, 120)
            return start, (None if rnd() < 0.7 else start + self.between(30, 700))
        start = self.between(lo, a)
        if rnd() < 0.001:
            return start, start
        if rnd() < 0.001:
            return start, a
        if rnd() < ended_p:
            if start >= a:
                start = self.between(lo, a - 1)
            return start, self.between(start, a - 1)
        if rnd() < 0.3:
            return start, self.between(a, self.future)
        return start, None

    def forced_period(self, force, lo):
        a = self.as_of
        if force == "future_start":
            return a + self.between(1, 120), None
        if force == "open":
            return self.between(lo, a), None
        if force == "future_end":
            return self.between(lo, a), self.between(a + 1, self.future)
        if force == "one_day":
            start = self.between(lo, a)
            return start, start
        if force == "ends_on_as_of":
            return self.between(lo, a), a
        start = self.between(lo, a - 1)  # ended: the last day is before as_of
        return start, self.between(start, a - 1)

    def reason(self, source, end, force=None, may_die=True):
        """end_reason for a row ending on end. may_die is False for a
        person's second relationship: a death ends every relationship, so it
        is decided on the first one only."""
        if end is None:
            return ""
        if end < self.as_of and (force in ("death", "death_multi_relationship")
                                 or (may_die and self.rnd() < 0.01)):
            return "death"
        return self.pick(END_REASONS[source])

    def period_before(self, death, ended_p, lo, at_death=False):
        """A second relationship of someone who died: it ends on the day of
        death at the latest, and then with end_reason death."""
        start, end = self.period(ended_p, lo=lo)
        if start > death:
            start = death - self.between(0, 3 * 365)
        if at_death or end is None or end >= death:
            return start, death, "death"
        return start, end, None

    def count_period(self, start, end):
        st = self.stats
        a = self.as_of
        if start > a:
            st["future_start"] += 1
        if end is None:
            st["open"] += 1
        elif end < a:
            st["ended"] += 1
        else:
            st["future_end"] += 1
            if end == a:
                st["ends_on_as_of"] += 1
        if end is not None and end == start:
            st["one_day"] += 1

    def base_row(self, source, p, start, end, reason):
        row = [""] * len(COLUMNS)
        row[KEY], n = self.next_key(source)
        row[NID] = p.nid
        row[GIVEN] = p.given
        row[FAMILY] = p.family
        row[PREFERRED] = p.preferred
        row[PHONE] = p.phone
        row[VALID_FROM] = self.iso(start)
        row[VALID_TO] = self.iso(end) if end is not None else ""
        row[END_REASON] = reason
        self.count_period(start, end)
        if reason == "death":
            self.stats["death"] += 1
        return row, n

    # ---- managers ---------------------------------------------------------

    def manager_for(self, number, force):
        """Manager key for hr row number. Rows promised earlier as someone's
        (forward) manager only get a forward manager or a top manager, which
        has none: so every path up the hierarchy ends and there is no cycle."""
        rnd = self.rnd
        target = number in self.forward_targets
        if target:
            self.forward_targets.discard(number)
        if force == "manager_forward" or (self.forward_allowed and rnd() < 0.02):
            t = self.counter["hr"] + self.between(1, 20)
            self.forward_targets.add(t)
            self.forward_max = max(self.forward_max, t)
            self.stats["manager_forward"] += 1
            return KEY_PREFIX["hr"] + str(t)
        pool = self.top_pool if target else self.manager_pool
        if pool and rnd() < 0.9:
            self.stats["manager_backward"] += 1
            return self.pick(pool)
        self.stats["manager_none"] += 1
        return ""

    # ---- one row per source -----------------------------------------------

    def staff_row(self, p, force=None, death=None, second=False):
        if death is not None:
            start, end, reason = self.period_before(death, 0.2, adult(p))
            reason = reason or self.reason("hr", end, may_die=False)
        else:
            start, end = self.period(0.2, force, adult(p))
            rehire = force in ("rehire", "rehire_name_change")
            reason = self.reason("hr", end, force, may_die=not (second or rehire))
        row, number = self.base_row("hr", p, start, end, reason)
        row[EMAIL] = self.staff_email(p)
        row[UNIT] = self.pick(UNITS)
        row[TITLE] = self.pick(TITLES)
        row[MANAGER] = self.manager_for(number, force)
        self.feeds["hr"].write(row)
        key = row[KEY]
        if not row[MANAGER]:
            self.pool_add(self.top_pool, key)
        if len(self.manager_pool) < 8 or self.rnd() < 0.1:
            self.pool_add(self.manager_pool, key)
        self.pool_add(self.staff_pool, key)
        return row, start, end, reason

    def staff_email(self, p):
        first = p.preferred or p.given.split(" ")[0]
        return f"{self.fold(first)}.{self.fold(p.family)}@example.fi"

    def rehire(self, p, first_end, force):
        if force == "rehire_name_change" or self.rnd() < 0.2:
            old = p.family
            p.family = self.family_name(None)
            if p.family == old:
                p.family = f"{old}-{self.pick(PLAIN_FAMILY)}"
            self.stats["rehire_name_change"] += 1
        start = first_end + self.between(2, 400)  # at least one day between
        end = None if self.rnd() < 0.8 else start + self.between(30, 900)
        # Never a death here: the person may hold other relationships that
        # go on after this one.
        reason = "" if end is None else self.pick(END_REASONS["hr"])
        row, number = self.base_row("hr", p, start, end, reason)
        row[EMAIL] = self.staff_email(p)
        row[UNIT] = self.pick(UNITS)
        row[TITLE] = self.pick(TITLES)
        row[MANAGER] = self.manager_for(number, None)
        self.feeds["hr"].write(row)
        if not row[MANAGER]:
            self.pool_add(self.top_pool, row[KEY])
        self.pool_add(self.staff_pool, row[KEY])
        self.stats["rehire"] += 1

    def student_row(self, p, force=None, death=None, second=False):
        if death is not None:
            start, end, reason = self.period_before(death, 0.3, adult(p),
                                                    force == "death_multi_relationship")
            reason = reason or self.reason("sis", end, may_die=False)
        else:
            start, end = self.period(0.3 if second else 0.2, force, adult(p))
            reason = self.reason("sis", end, force, may_die=not second)
        row, _ = self.base_row("sis", p, start, end, reason)
        row[PROGRAMME] = self.pick(PROGRAMMES)
        row[UNIT] = self.pick(FACULTIES)
        self.feeds["sis"].write(row)
        return reason

    def pupil_row(self, p, force=None):
        start, end = self.period(0.2, force, p.birth + 7 * 365 + 1)
        row, _ = self.base_row("pupils", p, start, end, self.reason("pupils", end, force))
        grade = max(1, min(9, (self.as_of - p.birth) // 365 - 6))
        cls = f"{grade}{self.pick('ABCDE')}"
        subjects = self.rng.sample(("MA", "AI", "EN", "RU", "BI", "HI"), 3)
        row[SCHOOL] = self.pick(SCHOOLS)
        row[CLASS] = cls
        row[GROUPS] = ";".join(sorted(f"{cls}-{s}" for s in subjects))
        self.feeds["pupils"].write(row)

    def official_row(self, p, force=None, historical=False):
        if historical:
            start = p.birth + self.between(30 * 365, 55 * 365)
            end = min(start + self.between(365, 8 * 365), self.as_of - 1)
            reason = "death" if self.rnd() < 0.5 else "term_end"
        else:
            start, end = self.period(0.2, force, adult(p))
            reason = self.reason("officials", end, force)
        row, _ = self.base_row("officials", p, start, end, reason)
        row[UNIT] = self.pick(BODIES)
        row[TITLE] = self.pick(OFFICIAL_TITLES)
        self.feeds["officials"].write(row)
        return start, end, reason

    def sponsored_row(self, p, force, visitor):
        a = self.as_of
        if visitor:
            start = self.between(a - 2 * 365, a + 60)
            end = start + self.between(6, 364)
        else:
            start, end = self.period(0.2, lo=adult(p))
        if end is None:
            reason = ""
        else:
            reason = "death" if end < a and self.rnd() < 0.005 else \
                self.pick(END_REASONS["sponsored"])
        row, _ = self.base_row("sponsored", p, start, end, reason)
        if not p.nid:
            self.stats["no_national_id"] += 1
        org = self.pick(HOME_ORGS if visitor else PARTNERS)
        row[UNIT] = org
        row[TITLE] = self.pick(VISITOR_TITLES if visitor else PARTNER_TITLES)
        domain = self.fold(org.split(" ")[0]) + ".example"
        row[EMAIL] = f"{self.fold(p.given.split(' ')[0])}.{self.fold(p.family)}@{domain}"
        row[MANAGER] = self.pick(self.staff_pool)
        self.feeds["sponsored"].write(row)
        self.stats["sponsored_visitor" if visitor else "sponsored_partner"] += 1

    # ---- people, one at a time ----------------------------------------------

    def draw_source(self, sponsored_ok=True):
        r = self.rnd()
        if self.sponsored_share > 0:
            if r < self.sponsored_share and self.staff_pool and sponsored_ok:
                return "sponsored"
            r = self.rnd()
        acc = 0.0
        for source, share in SHARE:
            acc += share
            if r < acc:
                return source
        return SHARE[-1][0]

    def one_person(self, force=None):
        if force == "historical_1800s":
            birth = self.between(dt.date(1870, 1, 1).toordinal(),
                                 dt.date(1899, 12, 31).toordinal())
            p = self.new_person("officials", force, birth=birth)
            self.official_row(p, historical=True)
            self.stats["historical_1800s"] += 1
            return
        if force is None and self.rnd() < 0.0002:
            return self.one_person("historical_1800s")
        source = FORCED_SOURCE.get(force)
        century = None
        if force and force.startswith("century_sign_"):
            century = 19 if force[-1] in CENTURY_SIGNS[19] else 20
            source = "hr" if century == 19 else "pupils"
        if source == "sponsored" and not self.staff_pool:
            source = "hr"
        if source is None:
            source = self.draw_source(sponsored_ok=force is None)
        visitor = False
        with_nid = True
        if source == "sponsored":
            visitor = force in ("sponsored_visitor", "no_national_id") or \
                (force != "sponsored_partner" and self.rnd() < 0.4)
            # Foreign visitors usually have no Finnish national ID.
            with_nid = not visitor or (force != "no_national_id" and self.rnd() >= 0.6)
        p = self.new_person(source, force, century, with_nid=with_nid)

        if source == "hr":
            self.staff_person(p, force)
            if force == "sign_twins":
                self.sign_twin(p)
        elif source == "sis":
            self.student_row(p, force)
        elif source == "pupils":
            self.pupil_row(p, force)
        elif source == "officials":
            start, end, reason = self.official_row(p, force)
            if force == "dual_official_staff" or self.rnd() < 0.1:
                r2 = self.staff_row(p, death=end if reason == "death" else None, second=True)[3]
                self.stats["dual_official_staff"] += 1
                if reason == "death" and r2 == "death":
                    self.stats["death_multi_relationship"] += 1
        else:
            self.sponsored_row(p, force, visitor)

    def staff_person(self, p, force):
        _, _, end, reason = self.staff_row(p, force)
        rnd = self.rnd
        if (end is not None and end < self.as_of and reason != "death"
                and (force in ("rehire", "rehire_name_change") or rnd() < 0.05)):
            self.rehire(p, end, force)
        if force in ("dual_staff_student", "death_multi_relationship") or rnd() < 0.03:
            r2 = self.student_row(p, force, death=end if reason == "death" else None,
                                  second=True)
            self.stats["dual_staff_student"] += 1
            if reason == "death" and r2 == "death":
                self.stats["death_multi_relationship"] += 1

    def sign_twin(self, p):
        """Another person with the same birth date and individual number but
        a different century sign: a different, equally valid national ID."""
        q = self.new_person("sis", birth=p.birth, female=p.female, with_nid=False)
        signs = CENTURY_SIGNS[dt.date.fromordinal(p.birth).year // 100]
        other = self.pick([s for s in signs if s != p.nid[6]])
        q.nid = self.nid_for(p.birth, q.female, False, sign=other, individual=int(p.nid[7:10]))
        self.student_row(q)
        self.stats["sign_twins"] += 1

    # ---- broken rows --------------------------------------------------------

    def broken_copy(self, feed, row):
        kind = self.broken_queue.pop() if self.broken_queue else self.pick(BROKEN_KINDS)
        r = list(row)
        if kind == "bad_checksum":
            nid = r[NID] or NO_NID_BASE
            r[NID] = nid[:-1] + self.pick([c for c in CHECK_CHARS if c != nid[-1]])
        elif kind == "missing_key":
            r[KEY] = ""
        elif kind == "impossible_date":
            if r[VALID_TO] and self.rnd() < 0.3:
                r[VALID_TO] = self.pick(IMPOSSIBLE_DATES)
            else:
                r[VALID_FROM] = self.pick(IMPOSSIBLE_DATES)
        elif kind == "end_before_start":
            start = dt.date.fromisoformat(r[VALID_FROM]).toordinal()
            r[VALID_TO] = self.iso(start - self.between(1, 365))
            if not r[END_REASON]:
                r[END_REASON] = self.pick(END_REASONS[feed])
        # duplicate_key: the row again, unchanged
        self.broken[kind] += 1
        return r

    # ---- the run --------------------------------------------------------------

    def run(self):
        os.makedirs(self.out, exist_ok=True)
        names = SOURCES + (("sponsored",) if self.sponsored_share > 0 else ())
        self.feeds = {n: Feed(self, n, os.path.join(self.out, f"{n}.csv")) for n in names}
        n = self.persons
        kinds = list(FORCED) + (list(FORCED_SPONSORED) if self.sponsored_share > 0 else [])
        forced = {}
        if n > 1:
            # Position 0 is never forced: namesakes need someone before them,
            # sponsored people need a sponsor. Sponsored cases go late.
            slots = self.rng.sample(range(1, n), min(len(kinds), n - 1))
            slots.sort()
            regular = [k for k in kinds if k not in FORCED_SPONSORED]
            ordered = regular + [k for k in kinds if k in FORCED_SPONSORED]
            forced = dict(zip(slots, ordered[:len(slots)]))
        stop_forward = int(n * 0.95)
        try:
            for i in range(n):
                if i == stop_forward:
                    self.forward_allowed = False
                self.one_person(forced.get(i))
            # Keep every promise of a later manager: add staff until the
            # highest promised key exists.
            self.forward_allowed = False
            while self.forward_max > self.counter["hr"]:
                self.stats["filler_staff"] += 1
                p = self.new_person("hr")
                self.staff_row(p)
        finally:
            for feed in self.feeds.values():
                feed.close()

    def summary(self):
        return {
            "persons": self.persons_written,
            "files": {f"{n}.csv": f.rows for n, f in self.feeds.items()},
            "valid_rows": {f"{n}.csv": f.valid for n, f in self.feeds.items()},
            "edge_cases": dict(self.stats),
            "century_signs": dict(self.signs),
            "invalid": dict(self.broken),
        }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1000, help="people to generate (default 1000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--as-of", default="2026-11-01",
                    help="reference date for ages and periods (default 2026-11-01)")
    ap.add_argument("--invalid-rate", type=float, default=0.0,
                    help="broken rows per valid row, 0..1 (default 0)")
    ap.add_argument("--sponsored", type=float, default=0.0,
                    help="share of people who are sponsored partners or visitors, "
                         "written to sponsored.csv (default 0: no such file)")
    ap.add_argument("--summary", action="store_true",
                    help="print a JSON line of counts to stderr")
    ap.add_argument("--out", required=True, help="output directory")
    args = ap.parse_args(argv)
    if args.persons < 0:
        ap.error("--persons must not be negative")
    if not 0.0 <= args.invalid_rate <= 1.0:
        ap.error("--invalid-rate must be between 0 and 1")
    if not 0.0 <= args.sponsored < 1.0:
        ap.error("--sponsored must be at least 0 and below 1")
    try:
        dt.date.fromisoformat(args.as_of)
    except ValueError:
        ap.error("--as-of must be a date YYYY-MM-DD")

    gen = Generator(args)
    gen.run()
    summary = gen.summary()
    for name, rows in summary["files"].items():
        print(f"{name}: {rows} rows", file=sys.stderr)
    if args.summary:
        print(json.dumps(summary, ensure_ascii=False, sort_keys=True), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
