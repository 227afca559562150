"""Read a CloudFormation template's short-form intrinsics as data ({"!Tag": value}), to compare patched
templates resource by resource."""

import yaml as pyyaml


class CfnLoader(pyyaml.SafeLoader):
    """Short-form intrinsics as {"!Tag": value}."""


CfnLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: {
        "!" + suffix: loader.construct_sequence(node)
        if isinstance(node, pyyaml.SequenceNode)
        else loader.construct_mapping(node)
        if isinstance(node, pyyaml.MappingNode)
        else loader.construct_scalar(node)
    },
)


def load(text: str) -> dict:
    return pyyaml.load(text, Loader=CfnLoader)
