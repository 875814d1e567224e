from relance.domain import api_keys
from relance.ids import new_id


def test_generated_key_parses_back_to_its_organization_and_hash():
    org = new_id("org")

    plaintext, stored_hash = api_keys.generate(org)
    parsed = api_keys.parse(plaintext)

    assert parsed == (org, stored_hash)
    assert plaintext not in stored_hash


def test_keys_are_unique_and_carry_256_bits():
    org = new_id("org")
    keys = {api_keys.generate(org)[0] for _ in range(50)}

    assert len(keys) == 50
    secrets = [k.removeprefix(f"rk_{org}_") for k in keys]
    assert all(len(s) == 43 for s in secrets)  # 32 random bytes, url-safe base64


def test_anything_else_is_not_a_key():
    org = new_id("org")
    plaintext, _ = api_keys.generate(org)

    assert api_keys.parse("") is None
    assert api_keys.parse("Bearer abc") is None
    assert api_keys.parse(plaintext[:-1]) is None
    assert api_keys.parse(plaintext.replace("rk_org_", "rk_cus_")) is None
