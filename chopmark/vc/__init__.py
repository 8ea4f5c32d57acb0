"""The W3C VC Data Model 2.0: issuing and verifying credentials (:mod:`.credentials`) and presentations
(:mod:`.presentations`), the data-model rules (:mod:`.datamodel`), Bitstring Status List 1.0
(:mod:`.statuslist`, with the keyed index permutation of :mod:`.permutation`), verification results
(:mod:`.results`) and a sample credential (:mod:`.samples`). May import: ``chopmark.integrity`` and the layers
below.
"""
