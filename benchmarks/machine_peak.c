/* Latencies and peak of this machine for benchmarks/roofline.py:
   gcc -O2 -mavx2 benchmarks/machine_peak.c -o /tmp/peak && /tmp/peak
   gcc -O2 -mavx512f benchmarks/machine_peak.c -o /tmp/peak && /tmp/peak
   dependent vaddsd / vmulsd / vdivsd chains (ns each) and 6 + 6 independent
   AVX2 vaddpd / vmulpd chains (GFLOP/s without FMA); built with -mavx512f,
   the same with 512-bit vectors too. */
#include <stdio.h>
#include <time.h>
#include <immintrin.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  long N=400000000; volatile double seed=1e-9; double x=1.0,y=seed;
  double t=now(); for(long i=0;i<N;i++){ __asm__ volatile("vaddsd %1,%0,%0":"+x"(x):"x"(y)); } double add=(now()-t)/N;
  x=1.0; y=1.0000000001; t=now(); for(long i=0;i<N;i++){ __asm__ volatile("vmulsd %1,%0,%0":"+x"(x):"x"(y)); } double mul=(now()-t)/N;
  long M=N/8; x=1.0; y=1.0000001; t=now(); for(long i=0;i<M;i++){ __asm__ volatile("vdivsd %1,%0,%0":"+x"(x):"x"(y)); } double dv=(now()-t)/M;
  __m256d a0=_mm256_set1_pd(1),a1=a0,a2=a0,a3=a0,a4=a0,a5=a0,a6=a0,a7=a0,m0=a0,m1=a0,m2=a0,m3=a0,m4=a0,m5=a0,m6=a0,m7=a0,s=_mm256_set1_pd(seed),u=_mm256_set1_pd(1.0000000001);
  t=now(); for(long i=0;i<M;i++){
   __asm__ volatile("vaddpd %12,%0,%0\n vmulpd %13,%1,%1\n vaddpd %12,%2,%2\n vmulpd %13,%3,%3\n vaddpd %12,%4,%4\n vmulpd %13,%5,%5\n vaddpd %12,%6,%6\n vmulpd %13,%7,%7\n vaddpd %12,%8,%8\n vmulpd %13,%9,%9\n vaddpd %12,%10,%10\n vmulpd %13,%11,%11\n"
     :"+x"(a0),"+x"(m0),"+x"(a1),"+x"(m1),"+x"(a2),"+x"(m2),"+x"(a3),"+x"(m3),"+x"(a4),"+x"(m4),"+x"(a5),"+x"(m5):"x"(s),"x"(u)); }
  double thr=(now()-t)/(M*12.0*4); /* s per flop */
  double r[8]; _mm256_storeu_pd(r,_mm256_add_pd(_mm256_add_pd(a0,m7),_mm256_add_pd(a7,m0)));
  printf("add_lat_ns %.4f mul_lat_ns %.4f div_lat_ns %.4f peak_gflops %.2f  (%g %g)\n",add*1e9,mul*1e9,dv*1e9,1e-9/thr,x,r[0]);
#ifdef __AVX512F__
  __m512d b0=_mm512_set1_pd(1),b1=b0,b2=b0,b3=b0,b4=b0,b5=b0,n0=b0,n1=b0,n2=b0,n3=b0,n4=b0,n5=b0,s5=_mm512_set1_pd(seed),u5=_mm512_set1_pd(1.0000000001);
  t=now(); for(long i=0;i<M;i++){
   __asm__ volatile("vaddpd %12,%0,%0\n vmulpd %13,%1,%1\n vaddpd %12,%2,%2\n vmulpd %13,%3,%3\n vaddpd %12,%4,%4\n vmulpd %13,%5,%5\n vaddpd %12,%6,%6\n vmulpd %13,%7,%7\n vaddpd %12,%8,%8\n vmulpd %13,%9,%9\n vaddpd %12,%10,%10\n vmulpd %13,%11,%11\n"
     :"+v"(b0),"+v"(n0),"+v"(b1),"+v"(n1),"+v"(b2),"+v"(n2),"+v"(b3),"+v"(n3),"+v"(b4),"+v"(n4),"+v"(b5),"+v"(n5):"v"(s5),"v"(u5)); }
  double thr5=(now()-t)/(M*12.0*8);
  double r5[8]; _mm512_storeu_pd(r5,_mm512_add_pd(_mm512_add_pd(b0,n5),_mm512_add_pd(b5,n0)));
  printf("avx512 peak_gflops %.2f  (%g)\n",1e-9/thr5,r5[0]);
#endif
}
