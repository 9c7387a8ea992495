"""Map the design card's top-level folders onto subpackages of the one `epizoo` distribution.

Everything else (metadata, dependencies, entry points) lives in pyproject.toml; setuptools cannot
express "folder X is package epizoo.Y, with all its subpackages" declaratively, hence this file.
"""
from setuptools import find_packages, setup

TOP_LEVEL = {
    "epizoo": "epizoo",
    "epizoo.dataloaders": "dataloaders",
    "epizoo.plugins": "plugins",
    "epizoo.conversion": "conversion",
    "epizoo.zoo": "zoo",
    # the example inputs: the zoo's entries name them relative to their folders (../../examples),
    # which holds in a checkout and in an installed package alike
    "epizoo.examples": "examples",
    # the cookiecutter template that `epizoo new` renders
    "epizoo.model_template": "model-template",
}


def _packages() -> tuple[list[str], dict[str, str]]:
    packages, package_dir = [], {}
    for package, folder in TOP_LEVEL.items():
        package_dir[package] = folder
        packages.append(package)
        packages += [f"{package}.{sub}" for sub in find_packages(folder)]
    return packages, package_dir


PACKAGES, PACKAGE_DIR = _packages()

setup(
    packages=PACKAGES,
    package_dir=PACKAGE_DIR,
    # zoo entries (model.yaml, dataloader.yaml, models.tsv, small weights, an entry's own
    # dataloader.py) travel with the package
    package_data={"epizoo.zoo": ["**/*.yaml", "**/*.tsv", "**/*.txt", "**/*.safetensors", "**/*.json", "**/*.md",
                                "**/*.j2", "**/*.h5", "**/*.bw", "**/*.py", "**/*.meme", "**/example_files/*"],
                  # the Snakemake workflows that `epizoo workflow` prints or writes
                  "epizoo.plugins": ["veff/workflow/*", "train/templates/*"],
                  "epizoo.examples": ["*"],
                  # the catalogue's page templates, style and script (`epizoo catalogue`)
                  "epizoo": ["catalogue_site/*"],
                  "epizoo.model_template": ["*", "hooks/*", "{{cookiecutter.entry}}/*",
                                            "{{cookiecutter.entry}}/example_files/*"]},
)
