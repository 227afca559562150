"""Secrets never reach the evidence: patterns and the values of secret-looking environment variables."""

from productizar.core.scrub import REDACTED, Scrubber, secret_values

# Fake credentials built at run time, so no credential-shaped literal sits in the repository.
KEY_ID = "AKIA" + "Q3EXAMPLE7" + "TESTKEY1"[:6]
SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEYabc"[:18]
TOKEN = "IQoJb3JpZ2luX2VjEJr" + "x" * 40


def test_patterns_catch_credentials_wherever_they_appear():
    s = Scrubber()
    assert len(KEY_ID) == 20 and len(SECRET) == 40
    text = "\n".join(
        [
            f"key {KEY_ID} used",
            f"aws_secret_access_key = {SECRET}",
            f'{{"SecretAccessKey": "{SECRET}", "SessionToken": "{TOKEN}"}}',
            "hive://svc_user:Pa55w0rd!@hive-dev.example.internal:10000/default",
            "Authorization: AWS4-HMAC-SHA256 Credential=x/20261129/us-east-1/dynamodb/aws4_request, Signature=abc",
            "headers={'authorization': 'Bearer eyJhbGciOi.eyJzdWIi.sig'}",
            "jdbc options password=hunter22;user=x",
        ]
    )
    out = s(text)
    for leaked in (KEY_ID, SECRET, TOKEN, "Pa55w0rd!", "Signature=abc", "eyJhbGciOi", "hunter22"):
        assert leaked not in out, leaked
    assert "hive://svc_user:" + REDACTED + "@hive-dev.example.internal:10000/default" in out
    assert out.count(REDACTED) >= 7


def test_harmless_text_is_left_alone():
    s = Scrubber()
    text = "SELECT count(*) AS total_rows FROM `resultados`.`inventario_lz`; 100.000 filas; sha 3f2a9c"
    assert s(text) == text


def test_secret_looking_environment_values_are_collected_and_replaced():
    environ = {
        "PRODUCTIZAR_HIVE_PASSWORD": "not-a-pattern-value",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "GITHUB_TOKEN": "ghp_short_but_real",
        "PWD": "/work/main",  # the shell's directory is not a secret
        "HOME": "/root",
        "SHORT_TOKEN": "abc",  # too short to replace safely
        "CUSTOM": "named-explicitly",
    }
    values = secret_values(environ, extra_names=["CUSTOM"])
    assert set(values) == {"not-a-pattern-value", SECRET, "ghp_short_but_real", "named-explicitly"}
    s = Scrubber(values)
    assert s("cwd /work/main, pw not-a-pattern-value, named-explicitly") == f"cwd /work/main, pw {REDACTED}, {REDACTED}"


def test_deep_scrubs_nested_structures():
    s = Scrubber(["s3cr3t-value"])
    obj = {"a": ["x s3cr3t-value y", {"b": "s3cr3t-value"}], "n": 3}
    assert s.deep(obj) == {"a": [f"x {REDACTED} y", {"b": REDACTED}], "n": 3}


def test_a_secret_is_found_however_a_file_encodes_it():
    import base64
    import html
    import urllib.parse

    from productizar.core.scrub import encodings

    secret = 'p&ss<w"rd-Pl4nted+/%x'
    s = Scrubber([secret])
    b64 = base64.b64encode(b"Adjunto: " + secret.encode() + b" fin").decode()
    wrapped = secret[:9] + "=\r\n" + secret[9:]  # quoted-printable's soft line break
    split = secret[:7] + "\n    " + secret[7:]
    for form in (
        html.escape(secret),
        urllib.parse.quote(secret, safe=""),
        b64,
        wrapped,
        split,
        '"p&ss<w\\"rd-Pl4nted+/%x"',
    ):
        assert s.leaks(f"antes {form} después"), form
    assert s(f"<td>{html.escape(secret)}</td>") == f"<td>{REDACTED}</td>"
    assert s(f"x={split};") == f"x={REDACTED};"
    assert len(encodings(secret)) >= 8
    assert not s.leaks("nada que ver aquí: p&ss, Pl4nted")


def test_wider_names_and_headers_count_as_secret():
    environ = {"AZURE_DEVOPS_EXT_PAT": "pat-value-123456", "SERVICE_APIKEY": "apikey-value-123", "PATH": "/usr/bin"}
    assert set(secret_values(environ)) == {"pat-value-123456", "apikey-value-123"}
    s = Scrubber()
    out = s("X-Api-Key: k3y-Pl4nted-0001\nurl?api_key=k3y-Pl4nted-0002&x=1\ncurl -H 'Bearer t0k3nPl4nted0003'")
    assert "Pl4nted" not in out, out
