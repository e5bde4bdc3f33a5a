#!/usr/bin/env python3
# An independent re-implementation of docs/lottery.md (algorithm version 1)
# for the register of the known-answer test in src/lottery/tests.rs; it must
# print the same register hash and selection as that test pins.
# Needs the `cryptography` package for ChaCha20.
import hashlib, json, struct
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
people=[]
for b,n in [(0,12),(1,30),(2,7)]:
    for i in range(n):
        year = 2015 if i%5==4 else 1950+i
        people.append(dict(id=f"P{b}-{i:03d}", buurt=["BU07721110","BU07721120","BU07721130"][b], birth=f"{year:04d}", postcode=f"56{10+b:02d}AB", number=1+i//3, addition=""))
rows=sorted(people,key=lambda p:p["id"].encode())
data=b"".join(json.dumps([p["id"],p["buurt"],p["birth"],p["postcode"],str(p["number"]),p["addition"]],separators=(",",":"),ensure_ascii=False).encode()+b"\n" for p in rows)
rh=hashlib.sha256(data).hexdigest(); print(rh)
params=json.dumps({"size":10,"allocation":{"method":"proportional"},"min_age":16,"reference_date":"2026-11-28","one_per_address":False,"exclude_months":None,"excluded":[]},separators=(",",":"))
key=hashlib.sha256(b"".join(x+b"\0" for x in [b"buurtpeil-stratified-draw",b"1","42 7 13".encode(),rh.encode(),params.encode()])).digest()
ks=Cipher(algorithms.ChaCha20(key,b"\0"*16),mode=None).encryptor().update(b"\0"*65536)
pos=0
def word():
    global pos; x=struct.unpack_from("<Q",ks,pos)[0]; pos+=8; return x
def below(n):
    lim=2**64-1-(2**64 % n)
    while True:
        x=word()
        if x<=lim: return x%n
# eligibility: age on 2026-11-28 with birth year -> born Dec 31 -> age = 2026-y-1
strata={}
for p in rows:
    strata.setdefault(p["buurt"],[])
    if 2026-int(p["birth"])-1>=16: strata[p["buurt"]].append(p)
E=sum(len(v) for v in strata.values()); size=10
alloc={}; rem=[]
for c in sorted(strata):
    e=len(strata[c]); alloc[c]=size*e//E; rem.append((-(size*e%E),c))
rem.sort()
for _,c in rem[:size-sum(alloc.values())]: alloc[c]+=1
sel=[]
for c in sorted(strata):
    L=strata[c]; k=alloc[c]; m=len(L)
    for i in range(k):
        j=i+below(m-i); L[i],L[j]=L[j],L[i]
    sel+= [p["id"] for p in L[:k]]
print(" ".join(sel))
