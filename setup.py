"""Packaging for pbdd: the ``parallel_bdd`` package and the ``pbdd`` console script."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = next(
    line.split('"')[1]
    for line in (HERE / "parallel_bdd" / "__init__.py").read_text().splitlines()
    if line.startswith("__version__")
)

setup(
    name="parallel-bdd",
    version=VERSION,
    description="Run lettuce-style Gherkin suites on Python 3, in parallel, slowest scenarios first",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["parallel_bdd", "parallel_bdd.*"]),
    python_requires=">=3.11",
    install_requires=[
        "click>=8.1",
        "gherkin-official>=29.0",
        "coverage>=7.0",
        "cucumber-tag-expressions>=6.0",
        "filelock>=3.20.3",  # older ones truncate through a symlinked lock (CVE-2025-68146)
        "psutil>=5.9",
    ],
    extras_require={
        "selenium": ["selenium>=4.10"],
        "postgres": ["psycopg[binary]>=3.1"],
        "subunit": ["python-subunit>=1.4"],
        "django": ["Django>=4.2"],
        "redis": ["redis>=5.0", "hiredis>=2.0"],
        "example": ["Flask>=2.3", "selenium>=4.10", "factory_boy>=3.3"],
        "test": [
            "pytest>=7.4",
            "junitparser>=3.1",
            "ruff>=0.4",
            "requests>=2.31",
            "psycopg[binary]>=3.1",
            "xmlschema>=3.0",
            "hypothesis>=6.0",
            "nox>=2024.4",
            "python-subunit>=1.4",
            "Django>=4.2",
            "redis>=5.0",
            "hiredis>=2.0",
        ],
    },
    entry_points={"console_scripts": ["pbdd = parallel_bdd.__main__:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Programming Language :: Python :: 3.14",
        "Framework :: Pytest",
        "Topic :: Software Development :: Testing :: BDD",
    ],
)
