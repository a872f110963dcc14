"""Sequence recommenders: the next item from a user's items in time order.

Three models on tinyrec's own layers, each a network with a hand-written backward
(:mod:`~tinyrec.models.sequential.sasrec`, :mod:`~tinyrec.models.sequential.gru4rec`,
:mod:`~tinyrec.models.sequential.caser`) and a recommender around it:

* :class:`SASRec` — causal self-attention (Kang & McAuley, ICDM 2018);
* :class:`GRU4Rec` — a recurrent network (Hidasi et al., ICLR 2016);
* :class:`Caser` — convolutions over the latest items (Tang & Wang, WSDM 2018).

What they share (the stored histories, ``fit`` with a validation split, ``recommend(history=...)``)
is :mod:`~tinyrec.models.sequential.base`; their training sets and sampled losses are
:mod:`~tinyrec.models.sequential.training`; the sequences themselves come from
:mod:`tinyrec.data.sequences`.
"""

from .caser import Caser, CaserNet
from .gru4rec import GRU4Rec, GRU4RecNet
from .output import ItemOutput
from .sasrec import SASRec, SASRecNet

__all__ = ["Caser", "CaserNet", "GRU4Rec", "GRU4RecNet", "ItemOutput", "SASRec", "SASRecNet"]
