# The known answer of test_node_seal.c, computed without libsodium: HChaCha20 by hand (the
# XChaCha20 subkey) and Python cryptography's ChaCha20-Poly1305. Usage: python3 seal_kat.py [COUNTER]
import struct
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
def rotl(v,c): return ((v<<c)&0xffffffff)|(v>>(32-c))
def qr(s,a,b,c,d):
    s[a]=(s[a]+s[b])&0xffffffff; s[d]=rotl(s[d]^s[a],16)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]=rotl(s[b]^s[c],12)
    s[a]=(s[a]+s[b])&0xffffffff; s[d]=rotl(s[d]^s[a],8)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]=rotl(s[b]^s[c],7)
def hchacha(key,n16):
    s=list(struct.unpack('<4I',b'expand 32-byte k'))+list(struct.unpack('<8I',key))+list(struct.unpack('<4I',n16))
    for _ in range(10):
        qr(s,0,4,8,12);qr(s,1,5,9,13);qr(s,2,6,10,14);qr(s,3,7,11,15)
        qr(s,0,5,10,15);qr(s,1,6,11,12);qr(s,2,7,8,13);qr(s,3,4,9,14)
    return struct.pack('<8I',*(s[0:4]+s[12:16]))
key=bytes(range(32)); tag=bytes.fromhex('deadbeef'); boot=bytes(range(1,9))
import sys
counter=int(sys.argv[1]) if len(sys.argv)>1 else 1
t=1764000000
to=bytes([4,127,0,0,1])+bytes(12)+bytes([0x0f,0xa0])
msg=b'sealed datagram KAT'
hdr=bytes([0xe5,1])+tag+boot+struct.pack('>QQ',counter,t)
nonce=hdr[6:30]
sub=hchacha(key,nonce[:16])
ct=ChaCha20Poly1305(sub).encrypt(b'\0'*4+nonce[16:],msg,hdr+to)
out=hdr+ct
print(len(out)); print(out.hex())
