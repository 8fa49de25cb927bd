"""The package's structure: layers that import downward only, and no import loop."""

import grimp
from importlinter.cli import lint_imports


def test_every_layer_imports_only_from_itself_and_the_layers_below():
    # The contract is in pyproject.toml ([tool.importlinter]); 0 means every contract is kept.
    assert lint_imports() == 0


def test_no_module_of_the_registry_imports_itself_through_others():
    graph = grimp.build_graph("sandbox_api")
    loops = sorted(
        (importer, imported)
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if graph.chain_exists(importer=imported, imported=importer)
    )
    assert loops == []
