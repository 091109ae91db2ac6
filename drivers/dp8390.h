/* The DP8390's registers and bits, as the National DP8390D datasheet
 * names them ("Register Descriptions", "Register Address Map"), plus the
 * two ports the NE2000 board adds around the chip. For drivers/ne2k.c. */
#ifndef DRIVERS_DP8390_H
#define DRIVERS_DP8390_H

/* Registers, offsets from the base port [DP8390D, "Register Address Map"]. */
#define NE_CR      0x00   /* command (every page) */
/* page 0, write */
#define NE_PSTART  0x01   /* first page of the receive ring */
#define NE_PSTOP   0x02   /* page after the receive ring */
#define NE_BNRY    0x03   /* boundary: last page the host has read (read/write) */
#define NE_TPSR    0x04   /* transmit page start */
#define NE_TBCR0   0x05   /* transmit byte count */
#define NE_TBCR1   0x06
#define NE_ISR     0x07   /* interrupt status (read/write: 1 clears) */
#define NE_RSAR0   0x08   /* remote start address */
#define NE_RSAR1   0x09
#define NE_RBCR0   0x0A   /* remote byte count */
#define NE_RBCR1   0x0B
#define NE_RCR     0x0C   /* receive configuration */
#define NE_TCR     0x0D   /* transmit configuration */
#define NE_DCR     0x0E   /* data configuration */
#define NE_IMR     0x0F   /* interrupt mask */
/* page 0, read */
#define NE_TSR     0x04   /* transmit status */
#define NE_CNTR0   0x0D   /* tally: frame alignment errors */
#define NE_CNTR1   0x0E   /* tally: CRC errors */
#define NE_CNTR2   0x0F   /* tally: missed frames (no room) */
/* page 1 */
#define NE_PAR0    0x01   /* physical address, 6 registers */
#define NE_CURR    0x07   /* current page: where the card writes next */
#define NE_MAR0    0x08   /* multicast hash, 8 registers */
/* the NE2000 board around the chip */
#define NE_DATA    0x10   /* remote DMA data port */
#define NE_RESET   0x1F   /* read (then write) resets the board */

/* CR bits */
#define CR_STP  0x01      /* stop */
#define CR_STA  0x02      /* start */
#define CR_TXP  0x04      /* transmit packet */
#define CR_RD0  0x08      /* remote read */
#define CR_RD1  0x10      /* remote write */
#define CR_RD2  0x20      /* abort/complete remote DMA */
#define CR_PAGE0 0x00
#define CR_PAGE1 0x40

/* ISR and IMR bits */
#define ISR_PRX 0x01      /* packet received */
#define ISR_PTX 0x02      /* packet transmitted */
#define ISR_RXE 0x04      /* receive error */
#define ISR_TXE 0x08      /* transmit error */
#define ISR_OVW 0x10      /* receive ring overwrite warning */
#define ISR_CNT 0x20      /* a tally counter's top bit is set */
#define ISR_RDC 0x40      /* remote DMA complete */
#define ISR_RST 0x80      /* reset / stopped */
#define ISR_ALL 0xFF      /* written to ISR: acknowledge everything */
#define IMR_WANTED (ISR_PRX | ISR_PTX | ISR_RXE | ISR_TXE | ISR_OVW | ISR_CNT)

#define DCR_WTS 0x01      /* word-wide DMA: the NE2000 has a 16-bit data port */
#define DCR_LS  0x08      /* normal operation, not loopback */
#define DCR_FT1 0x40      /* FIFO threshold: 8 bytes */
#define DCR_NE2000 (DCR_FT1 | DCR_LS | DCR_WTS)

#define RCR_AB  0x04      /* accept broadcast */
#define RCR_MON 0x20      /* monitor: check addresses, store nothing */
#define TCR_LB0 0x02      /* internal loopback (mode 1) */
#define TCR_NORMAL 0x00

#define RSR_PRX 0x01      /* received intact (first byte of a ring header) */

#endif
