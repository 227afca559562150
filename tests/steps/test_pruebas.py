"""Step ``pruebas``'s own decisions: the plan gives each query its share of the target TPS, no load is
launched against a shared environment (and it says so), and the headline names the plan and the target."""

from types import SimpleNamespace

from productizar.steps import pruebas
from tests.support.hu import DEMO, demo_with


def test_each_query_gets_its_tables_share_of_the_target_split_among_the_tables_queries():
    hu = demo_with()  # peak 40 + 15 + 25 = 80 TPS; the first and third tables are read by key and by both keys
    plan = pruebas.plan_table(SimpleNamespace(hu=hu))
    assert plan["TPS objetivo"].tolist() == [20.0, 20.0, 15.0, 12.5, 12.5]
    assert plan["TPS objetivo"].sum() == 80
    assert set(plan["Aserciones"]) == {"código 200, ≤ 300 ms"}
    assert plan["Solicitud"].str.startswith(f"GET /{hu.api.slug}/").all()


def test_no_load_is_launched_against_a_shared_environment_and_the_headline_names_plan_and_target(tmp_path, capsys):
    step = SimpleNamespace(
        hu=demo_with(), hu_path=DEMO, output_dir=tmp_path, env_name="qa", api_url=lambda: "https://api.qa.example.com"
    )
    folder = tmp_path / "pruebas"
    folder.mkdir()
    csv = folder / "claves_scoreDelta.csv"
    csv.write_text("num_documento\n1\n2\n", encoding="utf-8")
    plan, scenario = folder / "pruebas_alter_ctra_score_delta.jmx", folder / "locustfile.py"
    plan.write_text("<jmeterTestPlan/>", encoding="utf-8")
    scenario.write_text("", encoding="utf-8")
    prepared = pruebas.Prepared(folder, {"r.t": csv}, plan, scenario)

    assert pruebas.run_local(step, prepared) is None
    assert (
        "En qa la prueba de carga la corre el pipeline con pruebas_alter_ctra_score_delta.jmx"
        in capsys.readouterr().out
    )
    assert pruebas.files_table(prepared)["Filas"].tolist() == [2, "—", "—"]
    facts = pruebas.facts(prepared, None, step)
    assert "local_run" not in facts and facts["key_csvs"] == {"r.t": "pruebas/claves_scoreDelta.csv"}
    assert facts["headline"]["text"] == "plan pruebas_alter_ctra_score_delta.jmx para 80 TPS"
