"""``productizar new``'s draft: a table written as ``schema.table:pk:S[:sk:N][:lower]`` is read or refused
saying what is wrong, and the rendered file loads as a valid HU with the answers and the runbook's defaults."""

import pytest
import yaml

from productizar.core import hu_draft
from productizar.core.hu import load_hu


def test_a_table_is_read_with_its_keys_types_and_style():
    assert hu_draft.parse_table("resultados_x.mi_tabla:num_documento:s") == hu_draft.TableDraft(
        "resultados_x.mi_tabla", ("num_documento", "S")
    )
    assert hu_draft.parse_table(" resultados_x.t : id : N : fecha_corte : N : lower ") == hu_draft.TableDraft(
        "resultados_x.t", ("id", "N"), ("fecha_corte", "N"), "lower"
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("resultados_x.t:id", "is not of the form schema.table:partition_key"),
        ("sin_esquema:id:S", '"sin_esquema:id:S": the table'),
        ("resultados_x.t:1id:S", '"1id" is not a column name'),
        ("resultados_x.t:id:B", 'the type of id must be S or N, got "B"'),
    ],
)
def test_a_malformed_table_is_refused_saying_what_is_wrong(text, says):
    with pytest.raises(ValueError, match=says):
        hu_draft.parse_table(text)


def test_the_api_name_must_be_camel_case_with_two_words_and_the_requester_an_address():
    assert hu_draft.check_api("ScoreMora") == "ScoreMora"
    for bad in ("Score", "scoreMora", "Score_Mora"):
        with pytest.raises(ValueError, match="CamelCase with two words at least"):
            hu_draft.check_api(bad)
    with pytest.raises(ValueError, match="is not an e-mail address"):
        hu_draft.check_email("analista")


def test_the_drafted_file_loads_as_an_hu_with_the_answers_and_the_defaults(tmp_path):
    draft = hu_draft.Draft(
        4100001,
        "ScoreMora",
        (
            hu_draft.parse_table("resultados_riesgos.score_mora:num_documento:S:fecha_corte:N"),
            hu_draft.parse_table("resultados_riesgos.segmento_cliente:id_cliente:N:lower"),
        ),
        title="Despliegue: API «Score Mora» de Señales",
        rows=500,
    )
    path = tmp_path / "hu.yaml"
    path.write_text(hu_draft.render(draft, "hu.yaml"), encoding="utf-8")
    hu = load_hu(path)
    assert (hu.id, hu.api.name, hu.hu.title) == (4100001, "ScoreMora", "Despliegue: API «Score Mora» de Señales")
    assert [t.source for t in hu.tables] == ["resultados_riesgos.score_mora", "resultados_riesgos.segmento_cliente"]
    assert hu.tables[0].sort_key and hu.tables[0].sort_key.name == "fecha_corte" and hu.tables[1].sort_key is None
    assert [t.rows for t in hu.tables] == [500, 500]
    assert (tuple(hu.capacity.read), tuple(hu.capacity.write)) == ((1, 50), (1, 8000))  # the runbook's "1,50", "1,8000"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert "documents" not in raw and "glue" not in raw  # optional sections stay commented for the analyst
