from setuptools import find_packages, setup


def read_requirements(path):
    with open(path) as f:
        return [
            line.split('#')[0].strip() for line in f
            if line.split('#')[0].strip()
        ]


def read_version():
    namespace = {}
    with open('cosegtools/version.py') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='cosegtools',
    version=read_version(),
    description='OpenMMLab-style toolbox for deep object co-segmentation',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    # mmsegmentation's wheel installs a top-level ``tests`` package: keep ours
    # out of the installed package
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={
        'tests': read_requirements('requirements/tests.txt'),
        'optional': read_requirements('requirements/optional.txt'),
    },
    license='Apache License 2.0',
    zip_safe=False)
