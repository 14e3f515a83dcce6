"""The laboratory's address on organisations (API, with ETag/If-Match as every record) and on what it issues:
the certificate's laboratory in the PDF and ``dcc:calibrationLaboratory`` (contact/location) in the DCC."""

from __future__ import annotations

from lxml import etree
from tests.certificates.sample import sample_admin, sample_result
from tests.server.conftest import Platform

from hengqi.certificates.admin import Laboratory
from hengqi.certificates.dcc import dcc_bytes
from hengqi.certificates.dcc.vocabulary import DCC_NS
from hengqi.server.db.models import Organisation
from hengqi.server.services.guided_certificates import laboratory_of

ADDRESS = {"name_zh": "衡器实验室", "street": "Wensan Road", "street_no": "90", "city": "Hangzhou", "country": "CN"}


def test_administrators_set_the_address_with_if_match(platform: Platform) -> None:
    org = platform.organisation("A")
    _, admin = platform.user("root", "admin", org)
    _, manager = platform.user("quinn", "quality-manager", org)
    path = f"/api/v1/organisations/{org}"
    read = platform.client.get(path, headers=admin)
    assert read.json()["city"] == ""  # none yet
    tag = read.headers["ETag"]
    assert platform.client.patch(path, json=ADDRESS, headers=manager).status_code == 403
    for bad in ({"country": "China"}, {"country": "cn"}, {"city": "x" * 101}, {"street_no": "1" * 21}):
        assert platform.client.patch(path, json=bad, headers={**admin, "If-Match": tag}).status_code == 422, bad
    done = platform.client.patch(path, json=ADDRESS, headers={**admin, "If-Match": tag})
    assert done.status_code == 200
    assert done.json()["street"] == "Wensan Road"
    assert done.headers["ETag"] != tag
    stale = platform.client.patch(path, json={"city": "Ningbo"}, headers={**admin, "If-Match": tag})
    assert stale.status_code == 412
    assert platform.client.get(path, headers=admin).json()["city"] == "Hangzhou"
    assert platform.client.patch(path, json={"city": "Ningbo"}).status_code == 401


def test_another_organisations_user_cannot_read_or_change_it(platform: Platform) -> None:
    mine, theirs = platform.organisation("A"), platform.organisation("B")
    _, technician = platform.user("tess", "technician", theirs)
    path = f"/api/v1/organisations/{mine}"
    assert platform.client.get(path, headers=technician).status_code == 404
    assert platform.client.patch(path, json={"city": "X"}, headers=technician).status_code in (403, 404)


def test_the_address_is_the_dccs_calibration_laboratory_location() -> None:
    org = Organisation(name="Hengqi Lab", **ADDRESS, state="", post_code="310012")
    lab = laboratory_of(org)
    assert lab is not None
    assert laboratory_of(Organisation(name="No address", city="", country="")) is None  # refused at issue
    admin = sample_admin().model_copy(update={"laboratory": Laboratory.model_validate(lab)})
    tree = etree.fromstring(dcc_bytes(sample_result(), admin))
    location = tree.find(f".//{{{DCC_NS}}}calibrationLaboratory/{{{DCC_NS}}}contact/{{{DCC_NS}}}location")
    assert location is not None
    texts = {etree.QName(child).localname: child.text for child in location}
    assert texts["city"] == "Hangzhou"
    assert texts["countryCode"] == "CN"
    assert texts["street"] == "Wensan Road"
    assert texts["postCode"] == "310012"
    contact = f".//{{{DCC_NS}}}calibrationLaboratory/{{{DCC_NS}}}contact"
    names = tree.findall(f"{contact}/{{{DCC_NS}}}name/{{{DCC_NS}}}content")
    assert {n.text for n in names} >= {"Hengqi Lab", "衡器实验室"}
