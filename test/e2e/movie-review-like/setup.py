#nsml: floydhub/pytorch:0.3.0-gpu.cuda8cudnn6-py3.17
"""The shape of NAVER's movie-review baseline setup.py: an image header no node can pull, and
install_requires (here the package that stands in for torch, installed for the session)."""

from distutils.core import setup
setup(
    name='nsml movie review',
    version='1.0',
    description='',
    install_requires=[
        'torch'
    ]
)
