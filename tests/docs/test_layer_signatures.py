"""docs/layers.md shows every constructor argument of every block, with its
real default, in the order of the signature (a block that hides arguments
in **kwargs, or a changed default, fails here)."""

import ast
import inspect

import pytest

import keras_chattn
from tests.docs.markdown_blocks import REPO
from tests.docs.markdown_blocks import code_blocks

PAGE = REPO / "docs" / "layers.md"


def documented_calls():
    calls = {}
    for block in code_blocks(PAGE):
        if block.language != "python":
            continue
        for node in ast.walk(ast.parse(block.text)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and ast.unparse(node.func.value) == "keras_chattn.layers"
            ):
                calls[node.func.attr] = node
    return calls


CALLS = documented_calls()
PUBLIC_LAYERS = sorted(
    name
    for name in keras_chattn.layers.__all__
    if inspect.isclass(getattr(keras_chattn.layers, name))
    and name
    not in ("AttentionLayer", "IdentityStart", "PooledBatchNormalization")
)


def test_every_public_block_has_its_signature_on_the_page():
    assert sorted(CALLS) == PUBLIC_LAYERS


@pytest.mark.parametrize("name", PUBLIC_LAYERS)
def test_documented_arguments_are_the_constructor_s(name):
    parameters = [
        p
        for p in inspect.signature(
            getattr(keras_chattn.layers, name).__init__
        ).parameters.values()
        if p.name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    call = CALLS[name]
    assert [k.arg for k in call.keywords] == [p.name for p in parameters]
    for keyword, parameter in zip(call.keywords, parameters, strict=True):
        if parameter.default is not inspect.Parameter.empty:
            assert ast.literal_eval(keyword.value) == parameter.default, (
                name,
                parameter.name,
            )
