"""A case's risks and outcomes: derived scores, attainment and evidence grades, ownership."""

import pytest

from tests.conftest import publish

RISK = {"title": "Hallucinated answers", "domain": "3", "subdomain": "3.1", "likelihood": 4, "impact": 3}
OUTCOME = {"title": "Officers trained", "kind": "quantitative", "unit": "officers", "method": "administrative_data"}


def risks_url(case) -> str:
    return f"/api/v1/cases/{case['id']}/risks"


def outcomes_url(case) -> str:
    return f"/api/v1/cases/{case['id']}/outcomes"


def test_risk_lifecycle_with_derived_scores(owner_a, case_a):
    created = owner_a.post(risks_url(case_a), json=RISK)

    assert created.status_code == 201, created.json
    risk = created.json
    assert created.headers["Location"] == f"{risks_url(case_a)}/{risk['id']}"
    assert (risk["score"], risk["residual_score"], risk["status"]) == (12, None, "identified")
    assert owner_a.get(created.headers["Location"]).json == risk

    mitigated = owner_a.edit(
        created.headers["Location"],
        {"mitigation": "Answers cite sources", "residual_likelihood": 2, "residual_impact": 2, "status": "mitigated"},
    )

    assert mitigated.status_code == 200
    assert (mitigated.json["score"], mitigated.json["residual_score"]) == (12, 4)
    assert [r["id"] for r in owner_a.get(risks_url(case_a)).json] == [risk["id"]]


def test_risks_are_listed_highest_score_first_and_filtered(owner_a, case_a):
    for title, likelihood, domain, subdomain in (("low", 1, "2", "2.1"), ("high", 5, "3", "3.1")):
        owner_a.post(
            risks_url(case_a),
            json={**RISK, "title": title, "likelihood": likelihood, "domain": domain, "subdomain": subdomain},
        )

    assert [r["title"] for r in owner_a.get(risks_url(case_a)).json] == ["high", "low"]
    assert [r["title"] for r in owner_a.get(f"{risks_url(case_a)}?domain=2").json] == ["low"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"likelihood": 6}, "likelihood"),
        ({"impact": 0}, "impact"),
        ({"domain": "9"}, "domain"),
        ({"subdomain": "2.1"}, "subdomain"),
        ({"status": "materialised"}, "materialised_note"),
        ({"residual_likelihood": 2}, "residual_impact"),
        ({"score": 25}, "score"),
        ({"title": "x" * 201}, "title"),
    ],
)
def test_invalid_risks_are_refused(owner_a, case_a, change, field):
    response = owner_a.post(risks_url(case_a), json={**RISK, **change})

    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert owner_a.get(risks_url(case_a)).json == []


def test_a_materialised_risk_says_what_happened(owner_a, case_a):
    response = owner_a.post(
        risks_url(case_a), json={**RISK, "status": "materialised", "materialised_note": "Wrong exam dates given"}
    )

    assert response.status_code == 201
    assert response.json["materialised_note"] == "Wrong exam dates given"


def test_another_agency_cannot_touch_the_risk_register(owner_a, owner_b, naio, case_a):
    created = owner_a.post(risks_url(case_a), json=RISK).json
    url = f"{risks_url(case_a)}/{created['id']}"
    etag = owner_a.get(url).headers["ETag"]

    # While the case is unpublished, agency B cannot see it: 404, exactly like a missing case.
    assert owner_b.get(url).status_code == 404
    assert owner_b.get(risks_url(case_a)).status_code == 404
    assert owner_b.post(risks_url(case_a), json=RISK).status_code == 404
    assert owner_b.patch(url, json={"impact": 1}, etag=etag).status_code == 404
    assert owner_b.delete(url, etag=etag).status_code == 404

    publish(naio, owner_a, case_a)
    etag = owner_b.get(url).headers["ETag"]

    assert owner_b.post(risks_url(case_a), json=RISK).status_code == 403
    assert owner_b.patch(url, json={"impact": 1}, etag=etag).status_code == 403
    assert owner_b.delete(url, etag=etag).status_code == 403
    assert owner_a.get(url).json["impact"] == RISK["impact"]


def test_a_risk_is_found_only_under_its_own_case(owner_a, case_a):
    other = owner_a.post(
        "/api/v1/cases", json={**{k: case_a[k] for k in ("title", "summary", "primary_sector", "sandbox_type")}}
    ).json
    risk = owner_a.post(risks_url(case_a), json=RISK).json

    assert owner_a.get(f"{risks_url(case_a)}/{risk['id']}").status_code == 200
    assert owner_a.get(f"{risks_url(other)}/{risk['id']}").status_code == 404
    assert owner_a.get("/api/v1/cases/00000000-0000-4000-8000-000000000000/risks").status_code == 404


def test_risk_delete_needs_if_match(owner_a, case_a):
    url = f"{risks_url(case_a)}/{owner_a.post(risks_url(case_a), json=RISK).json['id']}"

    assert owner_a.delete(url).status_code == 428
    assert owner_a.delete(url, etag=owner_a.get(url).headers["ETag"]).status_code == 204
    assert owner_a.get(url).status_code == 404


@pytest.mark.parametrize(
    ("figures", "attained"),
    [
        ({"target": 200, "actual": 270, "direction": "increase"}, True),
        ({"target": 300, "actual": 270, "direction": "increase"}, False),
        ({"target": 10, "actual": 8, "direction": "decrease"}, True),
        ({"target": 10, "actual": 12, "direction": "decrease"}, False),
        ({"target": 10, "direction": "increase"}, None),
        ({"target": 10, "actual": 12}, None),
    ],
)
def test_outcome_attainment_follows_target_actual_and_direction(owner_a, case_a, figures, attained):
    response = owner_a.post(outcomes_url(case_a), json={**OUTCOME, **figures})

    assert response.status_code == 201, response.json
    assert response.json["attained"] is attained


@pytest.mark.parametrize(
    ("method", "grade"),
    [
        ("controlled_experiment", "A"),
        ("observational_study", "B"),
        ("administrative_data", "B"),
        ("survey", "C"),
        ("expert_review", "C"),
        ("anecdotal", "D"),
    ],
)
def test_evidence_grade_follows_the_method(owner_a, case_a, method, grade):
    response = owner_a.post(outcomes_url(case_a), json={**OUTCOME, "method": method})

    assert response.json["evidence_grade"] == grade


def test_outcome_lifecycle(owner_a, case_a):
    created = owner_a.post(
        outcomes_url(case_a), json={**OUTCOME, "target": 300, "actual": 270, "direction": "increase"}
    )
    url = created.headers["Location"]

    updated = owner_a.edit(url, {"actual": 320, "method": "controlled_experiment"})

    assert (updated.json["attained"], updated.json["evidence_grade"]) == (True, "A")
    assert [o["title"] for o in owner_a.get(f"{outcomes_url(case_a)}?method=controlled_experiment").json] == [
        OUTCOME["title"]
    ]
    assert owner_a.get(f"{outcomes_url(case_a)}?method=survey").json == []
    assert owner_a.delete(url, etag=owner_a.get(url).headers["ETag"]).status_code == 204


def test_a_qualitative_outcome_has_no_figures(owner_a, case_a):
    response = owner_a.post(outcomes_url(case_a), json={**OUTCOME, "kind": "qualitative", "actual": 3})

    assert response.status_code == 422
    assert "actual" in response.json["errors"]["json"]


@pytest.mark.parametrize("figure", ["NaN", "Infinity"])
def test_outcome_figures_must_be_finite(owner_a, case_a, figure):
    response = owner_a.client.post(
        outcomes_url(case_a),
        data=f'{{"title": "x", "kind": "quantitative", "method": "survey", "actual": {figure}}}',
        headers={"Authorization": f"Bearer {owner_a.key}", "Content-Type": "application/json"},
    )

    assert response.status_code in (400, 422)


def test_outcome_figures_are_kept_to_15_significant_digits_and_answered_as_kept(owner_a, case_a):
    # Found by tests/test_representations.py: SQLite writes a REAL in JSON with 15 significant digits, so
    # 649917254251774.2 was stored but answered as 649917254251774.0 by SQLite alone.
    longer = owner_a.post(outcomes_url(case_a), json={**OUTCOME, "kind": "quantitative", "baseline": 649917254251774.2})
    assert longer.status_code == 201, longer.json
    assert longer.json["baseline"] == 649917254251774.0
    assert owner_a.get(f"{outcomes_url(case_a)}/{longer.json['id']}").json["baseline"] == 649917254251774.0

    figures = {"baseline": 649917254251774.0, "target": 0.1, "actual": -123456.789012345}
    created = owner_a.post(outcomes_url(case_a), json={**OUTCOME, "kind": "quantitative", **figures})
    assert created.status_code == 201, created.json
    read = owner_a.get(f"{outcomes_url(case_a)}/{created.json['id']}").json
    assert {name: read[name] for name in figures} == figures
