"""Agencies: the lifecycle of a resource that only administrators change."""

from tests.conftest import create_agency


def test_admin_registers_an_agency_that_anyone_can_read(admin, client):
    response = admin.post("/api/v1/agencies", json={"slug": "moe", "name": "Ministry of Education", "kind": "ministry"})

    assert response.status_code == 201
    assert response.headers["Location"] == f"/api/v1/agencies/{response.json['id']}"
    assert response.json["country"] == "MY"
    read = client.get(response.headers["Location"])
    assert read.status_code == 200
    assert read.json == response.json
    assert read.headers["ETag"]


def test_agency_list_is_paginated_and_filtered(admin, client):
    for slug in ("aa", "bb", "cc"):
        create_agency(admin, slug)
    create_agency(admin, "sg-partner", kind="international", country="SG")

    page = client.get("/api/v1/agencies?page_size=2&kind=ministry")

    assert page.status_code == 200
    assert [agency["slug"] for agency in page.json] == ["aa", "bb"]
    assert '"total": 3' in page.headers["X-Pagination"]
    assert 'rel="next"' in page.headers["Link"]
    assert [a["slug"] for a in client.get("/api/v1/agencies?country=SG").json] == ["sg-partner"]


def test_slug_is_unique_and_immutable(admin):
    agency = create_agency(admin, "moe")

    duplicate = admin.post("/api/v1/agencies", json={"slug": "moe", "name": "Another", "kind": "ministry"})
    rename = admin.edit(f"/api/v1/agencies/{agency['id']}", {"slug": "mod"})

    assert duplicate.status_code == 409
    assert duplicate.content_type == "application/problem+json"
    assert rename.status_code == 422
    assert "slug" in rename.json["errors"]["json"]


def test_update_needs_the_current_etag(admin):
    agency = create_agency(admin, "moe")
    url = f"/api/v1/agencies/{agency['id']}"
    etag = admin.get(url).headers["ETag"]

    missing = admin.patch(url, json={"name": "Kementerian Pendidikan"})
    updated = admin.patch(url, json={"name": "Kementerian Pendidikan"}, etag=etag)
    stale = admin.patch(url, json={"name": "Stale"}, etag=etag)

    assert missing.status_code == 428
    assert updated.status_code == 200
    assert updated.json["name"] == "Kementerian Pendidikan"
    assert stale.status_code == 412
    assert admin.get(url).json["name"] == "Kementerian Pendidikan"


def test_only_admin_keys_manage_agencies(naio, owner_a, client, agency_a):
    body = {"slug": "new", "name": "New", "kind": "ministry"}

    assert client.post("/api/v1/agencies", json=body).status_code == 401
    assert naio.post("/api/v1/agencies", json=body).status_code == 403
    assert owner_a.post("/api/v1/agencies", json=body).status_code == 403


def test_an_agency_cannot_sit_under_itself(admin):
    parent = create_agency(admin, "mod")
    child = create_agency(admin, "naio", parent_id=parent["id"])

    cycle = admin.edit(f"/api/v1/agencies/{parent['id']}", {"parent_id": child["id"]})

    assert cycle.status_code == 422


def test_an_agency_in_use_cannot_be_deleted(admin, agency_a, case_a):
    url = f"/api/v1/agencies/{agency_a['id']}"

    refused = admin.delete(url, etag=admin.get(url).headers["ETag"])

    assert refused.status_code == 409
    assert admin.get(url).status_code == 200


def test_delete_then_not_found(admin):
    agency = create_agency(admin, "temp")
    url = f"/api/v1/agencies/{agency['id']}"

    deleted = admin.delete(url, etag=admin.get(url).headers["ETag"])

    assert deleted.status_code == 204
    assert admin.get(url).status_code == 404
    assert admin.delete(url, etag='"x"').status_code == 404
