"""The world each notebook's test is given: what must run first, and when AWS must be reset before it."""

import pytest

from productizar.run.registry import STEPS
from tests.support.notebook_world import World, closure


def test_each_notebook_needs_its_declared_upstream_steps_transitively():
    assert closure("conteo") == []
    assert closure("verificacion") == ["conteo", "dimensionamiento", "infraestructura", "coordinadores", "carga"]
    assert closure("smoke") == ["conteo", "dimensionamiento", "infraestructura", "coordinadores", "carga", "api"]
    assert closure("documentos") == ["conteo", "dimensionamiento", "infraestructura"]
    assert closure("consecutivo") == []


def test_in_runbook_order_nothing_is_redone():
    world = World(steps=[])
    for step in STEPS:
        assert world.plan(step) == (False, [])
        world.steps.append(step)


def test_a_notebook_alone_starts_from_an_empty_aws_with_its_upstream_steps():
    assert World().plan("verificacion") == (True, closure("verificacion"))


def test_a_writer_already_run_forces_a_reset_for_an_earlier_notebook_or_for_itself():
    after_load = World(steps=closure("carga") + ["carga"])
    assert after_load.plan("infraestructura") == (True, ["conteo", "dimensionamiento"])
    assert after_load.plan("carga") == (True, closure("carga"))
    # readers after it find what they need, and run only what is missing
    assert after_load.plan("smoke") == (False, ["api"])
    assert after_load.plan("documentos") == (False, [])


def test_missing_writers_run_only_after_the_writers_already_there():
    # coordinadores ran on a world without carga; verificacion needs carga after it: in order, no reset
    assert World(steps=closure("coordinadores") + ["coordinadores"]).plan("verificacion") == (False, ["carga"])
    # a later writer already there (verificacion) would precede the missing ones: reset and run them in order
    odd = World(steps=["conteo", "dimensionamiento", "infraestructura", "verificacion"])
    assert odd.plan("smoke") == (True, closure("smoke"))
    # the unconfirmed consecutivo writes nothing: it does not count
    assert World(steps=["consecutivo"]).plan("conteo") == (False, [])


@pytest.mark.usefixtures("embedded")
def test_a_notebook_that_did_not_run_whole_leaves_the_world_unknown():
    world = World(steps=["conteo"])
    world.finished("dimensionamiento", whole=False)
    assert world.steps is None and world.plan("dimensionamiento") == (True, ["conteo"])
    world = World(steps=["conteo"])
    world.finished("dimensionamiento", whole=True)
    assert world.steps == ["conteo", "dimensionamiento"]
