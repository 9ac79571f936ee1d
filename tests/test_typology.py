"""Markusen typology: evidence by hand and planted sentra of every type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from klastergeo.analysis import typology
from klastergeo.errors import ConfigError, DataError
from klastergeo.publish import messages


def _sentra(
    sid: str,
    workers: list[int],
    owners: list[str] | None = None,
    link: float = 0.7,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    n = len(workers)
    rng = rng or np.random.default_rng(0)
    links = (np.arange(n) < round(link * n)).astype(int)
    return pd.DataFrame(
        {
            "sentra_id": sid,
            "workers": workers,
            "kepemilikan": owners or ["lokal"] * n,
            "pemasok_lokal": links,
            "pembeli_lokal": 0,
        }
    )


def test_evidence_by_hand() -> None:
    firms = pd.concat(
        [
            _sentra("a", [10, 5, 3, 1, 1], ["lokal", "cabang", "lokal", "negara", "lokal"], 0.4),
            pd.DataFrame(
                {
                    "sentra_id": [None],
                    "workers": [99],
                    "kepemilikan": ["lokal"],
                    "pemasok_lokal": [1],
                    "pembeli_lokal": [1],
                }
            ),
        ],
        ignore_index=True,
    )
    got = typology.evidence(
        firms, ownership="kepemilikan", linkages=("pemasok_lokal", "pembeli_lokal")
    ).loc["a"]
    assert got["n_firms"] == 5  # the firm outside any sentra is not counted
    assert got["workers"] == 20
    assert got["top3_share"] == pytest.approx(18 / 20)
    assert got["top3_local_share"] == pytest.approx(13 / 18)
    assert got["herfindahl"] == pytest.approx((100 + 25 + 9 + 1 + 1) / 400)
    assert got["local_share"] == pytest.approx(14 / 20)
    assert got["branch_share"] == pytest.approx(5 / 20)
    assert got["state_share"] == pytest.approx(1 / 20)
    assert got["local_linkage"] == pytest.approx(2 / 5)


def _planted() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    small = lambda n: list(np.maximum(1, np.round(rng.lognormal(1.1, 0.6, n))).astype(int))  # noqa: E731
    parts = [
        # Marshallian: 150 small local firms, dense local links
        _sentra("marshall", small(150), link=0.7),
        # hub-and-spoke: three large local firms and 60 small suppliers
        _sentra("hub", [900, 500, 300, *small(60)], link=0.6),
        # satellite platform: 20 branch plants of outside firms, 10 small local firms
        _sentra(
            "satellite",
            [int(w) for w in rng.integers(80, 300, 20)] + small(10),
            ["cabang"] * 20 + ["lokal"] * 10,
            link=0.1,
        ),
        # state-anchored: a state sawmill and 40 small local workshops
        _sentra("state", [350, *small(40)], ["negara"] + ["lokal"] * 40, link=0.5),
        # Tumang: Marshallian with hub-and-spoke traits: three mid-size firms among many
        _sentra("tumang", [150, 120, 100, *small(200)], link=0.7),
    ]
    return pd.concat(parts, ignore_index=True)


def _labelled(classified: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The classification with its label in ``lang``, as the pipeline writes it."""
    return classified.assign(label=messages.typology_labels(classified, lang))


def test_planted_types_come_out_right() -> None:
    measured = typology.evidence(
        _planted(), ownership="kepemilikan", linkages=("pemasok_lokal", "pembeli_lokal")
    )
    got = _labelled(typology.classify(measured))
    assert got.loc["marshall", "typology"] == "marshallian"
    assert got.loc["hub", "typology"] == "hub_and_spoke"
    assert got.loc["satellite", "typology"] == "satellite_platform"
    assert got.loc["state", "typology"] == "state_anchored"
    assert got.loc["tumang", "typology"] == "mixed"
    assert got.loc["tumang", "primary"] == "marshallian"
    assert got.loc["tumang", "traits"] == "hub_and_spoke;marshallian"
    assert got.loc["tumang", "label"] == "Marshallian with hub-and-spoke traits"
    assert got.loc["marshall", "label"] == "Marshallian"


def test_without_ownership_the_type_is_not_available_not_guessed() -> None:
    measured = typology.evidence(_planted())
    assert measured["local_share"].isna().all() and measured["branch_share"].isna().all()
    assert measured["top3_share"].notna().all()  # sizes are still measured
    got = _labelled(typology.classify(measured))
    assert set(got["typology"]) == {"not_available"}
    assert (got["label"] == "not available (no ownership data)").all()
    in_indonesian = _labelled(typology.classify(measured), "id")["label"]
    assert in_indonesian.str.startswith("tidak tersedia").all()


def test_labels_in_indonesian_and_rules_are_parameters() -> None:
    measured = typology.evidence(_planted(), ownership="kepemilikan")
    got = _labelled(typology.classify(measured), "id")
    assert got.loc["tumang", "label"] == "Distrik Marshall dengan ciri pusat dan jari-jari"
    measured = measured.assign(local_share=1.0, top3_local_share=1.0)
    loose = typology.classify(measured, rules=typology.TypologyRules(marshallian_top3=0.4))
    assert loose.loc["tumang", "typology"] == "mixed"
    assert loose.loc["tumang", "strong"] == "marshallian"
    with pytest.raises(ConfigError, match=r"hub_top3=1\.5"):
        typology.TypologyRules(hub_top3=1.5)


def test_bad_ownership_and_missing_columns_are_named() -> None:
    firms = _sentra("a", [3, 4], ["lokal", "koperasi"])
    with pytest.raises(ConfigError, match=r"value\(s\) \['koperasi'\]"):
        typology.evidence(firms, ownership="kepemilikan")
    with pytest.raises(DataError, match="needs column"):
        typology.evidence(firms, linkages=("pembeli",))
    firms.loc[0, "workers"] = -1
    with pytest.raises(DataError, match="'workers' has 1 missing or negative"):
        typology.evidence(firms)


def test_known_ownership_with_no_workers_is_not_called_unknown() -> None:
    """A sentra whose firms all have 0 workers has no shares (0/0), but its ownership
    is known: it is not labelled "no ownership data"."""
    firms = _planted()
    tumang = firms["sentra_id"] == "tumang"
    firms.loc[tumang, "workers"] = 0
    got = _labelled(typology.classify(typology.evidence(firms, ownership="kepemilikan")))
    assert got.loc["tumang", "typology"] != "not_available"
    assert "ownership" not in got.loc["tumang", "label"]
